/*
 * Does KVM really work on this host?
 *
 * /dev/kvm existing proves little: in nested setups (or under PVM-style
 * kernels) the device opens and a VM is made, and then the first guest
 * dies in its BIOS with "KVM internal error ... emulation failure". So the
 * probe runs a few instructions the way SeaBIOS does: in real mode, load a
 * GDT, switch to 32-bit protected mode, `iretl`, `out` a byte to a port,
 * `hlt`. KVM passes only when the vCPU reports the port write and the
 * halt. It runs in a child process with a deadline, so a stuck vCPU
 * cannot hang the agent.
 */
#ifndef VDC_HVA_KVM_H
#define VDC_HVA_KVM_H

#include "err.h"

/* 0 when KVM ran the probe guest; else a negative errno and why. */
int hva_kvm_probe(struct vdc_err *err);

#endif
