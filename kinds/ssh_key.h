/*
 * Layer: kinds. The ssh-keys kind has no behaviour of its own (its table
 * is kinds/ssh_keys.c; instances read the keys they link): this header is
 * its attribute, by the constant its table and instance.c name it by.
 */
#ifndef VDC_SSH_KEY_H
#define VDC_SSH_KEY_H

/* ssh-keys/NAME/ */
enum vdc_ssh_key_attr {
	VDC_SSH_KEY_PUBLIC_KEY,
	VDC_SSH_KEY_NATTRS
};

#endif
