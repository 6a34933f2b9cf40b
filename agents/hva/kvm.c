#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "kvm.h"

#define PROBE_TIMEOUT_MS 5000
#define PROBE_LOAD 0x1000
#define PROBE_PORT 0x10
#define PROBE_VALUE 0x42

/*
 * Loaded at 0x1000 and entered in real mode with CS = 0:
 *
 *	cli
 *	lgdtl %cs:gdtr
 *	mov %cr0, %eax; or $1, %al; mov %eax, %cr0
 *	ljmpl $0x08, $pm32
 * pm32: (32-bit)
 *	mov $0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss
 *	mov $0x8000, %esp
 *	pushfl; pushl $0x08; pushl $after; iretl
 *	hlt
 * after:
 *	mov $0x42, %al; out %al, $0x10; hlt
 * gdt: null, flat 32-bit code (0x08), flat data (0x10); gdtr: limit 23, base gdt
 *
 * Assembled with `as --32` and `objcopy -O binary`; the iretl is where
 * broken setups fail (it is emulated rather than run).
 */
static const unsigned char probe_code[] = {
	0xfa, 0x2e, 0x66, 0x0f, 0x01, 0x16, 0x50, 0x10, 0x0f, 0x20, 0xc0, 0x0c,
	0x01, 0x0f, 0x22, 0xc0, 0x66, 0xea, 0x18, 0x10, 0x00, 0x00, 0x08, 0x00,
	0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0xbc, 0x00,
	0x80, 0x00, 0x00, 0x9c, 0x6a, 0x08, 0x68, 0x31, 0x10, 0x00, 0x00, 0xcf,
	0xf4, 0xb0, 0x42, 0xe6, 0x10, 0xf4, 0x66, 0x90, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00, 0x17, 0x00, 0x38, 0x10,
	0x00, 0x00,
};

/* The child's report: one line on `fd`, then exit 0 (passed) or 1. */
static void child_fail(int fd, const char *what, int e)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "%s%s%s", what, e ? ": " : "", e ? strerror(e) : "");
	if (n > 0 && write(fd, line, (size_t)n) < 0)
		_exit(1);
	_exit(1);
}

static void probe_child(int out)
{
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	unsigned char *mem;
	bool wrote = false;
	int kvm, vm, vcpu, size, i;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		child_fail(out, "cannot open /dev/kvm", errno);
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		child_fail(out, "/dev/kvm speaks another KVM API version", 0);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		child_fail(out, "KVM_CREATE_VM failed", errno);
	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		child_fail(out, "cannot map guest memory", errno);
	memcpy(mem + PROBE_LOAD, probe_code, sizeof(probe_code));
	memset(&region, 0, sizeof(region));
	region.memory_size = 0x10000;
	region.userspace_addr = (unsigned long)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		child_fail(out, "KVM_SET_USER_MEMORY_REGION failed", errno);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		child_fail(out, "KVM_CREATE_VCPU failed", errno);
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		child_fail(out, "KVM_GET_VCPU_MMAP_SIZE failed", errno);
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		child_fail(out, "cannot map the vCPU", errno);
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		child_fail(out, "KVM_GET_SREGS failed", errno);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		child_fail(out, "KVM_SET_SREGS failed", errno);
	memset(&regs, 0, sizeof(regs));
	regs.rip = PROBE_LOAD;
	regs.rflags = 2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		child_fail(out, "KVM_SET_REGS failed", errno);
	for (i = 0; i < 16; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			child_fail(out, "KVM_RUN failed", errno);
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PROBE_PORT &&
			    *((unsigned char *)run + run->io.data_offset) == PROBE_VALUE)
				wrote = true;
			continue;
		case KVM_EXIT_HLT:
			if (!wrote)
				child_fail(out, "the probe guest halted before it reached 32-bit code after iretl", 0);
			_exit(0);
		case KVM_EXIT_INTERNAL_ERROR:
			child_fail(out, "the probe guest stopped with a KVM internal error (emulation failure) where a BIOS switches to protected mode; this KVM cannot run BIOS guests", 0);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			child_fail(out, "KVM could not enter the probe guest (hardware entry failure)", 0);
			break;
		default: {
			char why[96];

			snprintf(why, sizeof(why), "the probe guest stopped with KVM exit reason %u", run->exit_reason);
			child_fail(out, why, 0);
		}
		}
	}
	child_fail(out, "the probe guest did not halt", 0);
}

int hva_kvm_probe(struct vdc_err *err)
{
	char said[300];
	size_t len = 0;
	long deadline;
	int pipefd[2], status;
	bool killed = false;
	pid_t pid;

	if (access("/dev/kvm", F_OK) < 0)
		return vdc_err_set(err, -ENODEV, "there is no /dev/kvm");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return vdc_err_set(err, -errno, "cannot make a pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(pipefd[0]);
		close(pipefd[1]);
		return vdc_err_set(err, -e, "cannot fork the KVM probe: %s", strerror(e));
	}
	if (pid == 0) {
		close(pipefd[0]);
		probe_child(pipefd[1]);
		_exit(1);
	}
	close(pipefd[1]);
	deadline = vdc_agent_now_ms() + PROBE_TIMEOUT_MS;
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		long left = deadline - vdc_agent_now_ms();
		ssize_t n;
		int rc;

		if (left <= 0) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc <= 0)
			continue;   /* the deadline is checked above */
		n = read(pipefd[0], said + len, sizeof(said) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(said) - 1)
			break;
	}
	said[len] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (killed)
		return vdc_err_set(err, -ETIMEDOUT, "the KVM probe guest did not finish within %d ms", PROBE_TIMEOUT_MS);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return vdc_err_set(err, -ENODEV, "%s", len ? said : "the KVM probe failed");
}
