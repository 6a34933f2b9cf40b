/*
 * The operations most drivers share, straight onto libvirt's API
 * (driver.h): apart from driver.c, which picks a driver, so that the
 * drivers and the table of drivers do not depend on each other.
 */
#include <libvirt/virterror.h>

#include "hva.h"

/*
 * libvirt forgets its last error at the start of every call, so the
 * domain's name is taken before the call whose error is reported.
 */
int hva_virt_start(virDomainPtr dom, struct vdc_err *err)
{
	const char *name = virDomainGetName(dom);

	if (virDomainCreate(dom) < 0)
		return hva_virt_err(err, -EIO, "cannot start domain %s", name);
	return 0;
}

int hva_virt_shutdown(virDomainPtr dom, struct vdc_err *err)
{
	const char *name = virDomainGetName(dom);

	if (virDomainShutdown(dom) < 0)
		return hva_virt_err(err, -EIO, "cannot shut domain %s down", name);
	return 0;
}

int hva_virt_destroy(virDomainPtr dom, struct vdc_err *err)
{
	const char *name = virDomainGetName(dom);

	if (virDomainDestroy(dom) == 0)
		return 0;
	hva_virt_err(err, -EIO, "cannot force domain %s off", name);
	/* An off domain is what was asked for. */
	if (virDomainIsActive(dom) == 0) {
		vdc_err_clear(err);
		return 0;
	}
	return err ? err->code : -EIO;
}

int hva_virt_reboot(virDomainPtr dom, struct vdc_err *err)
{
	const char *name = virDomainGetName(dom);

	if (virDomainReboot(dom, VIR_DOMAIN_REBOOT_DEFAULT) < 0)
		return hva_virt_err(err, -EIO, "cannot reboot domain %s", name);
	return 0;
}

int hva_virt_reset(virDomainPtr dom, struct vdc_err *err)
{
	const char *name = virDomainGetName(dom);

	if (virDomainReset(dom, 0) < 0)
		return hva_virt_err(err, -EIO, "cannot reset domain %s", name);
	return 0;
}
