#include <string.h>

#include "hva.h"

static const struct hva_driver *const drivers[] = { &hva_driver_qemu, &hva_driver_lxc };

const struct hva_driver *hva_driver_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

static int unsupported(const struct hva *h, const char *what, struct vdc_err *err)
{
	return vdc_err_set(err, -ENOTSUP, "the %s driver cannot %s", h->drv->name, what);
}

int hva_drv_probe(struct hva *h, struct vdc_err *err)
{
	if (!h->drv->probe)
		return 0;
	return h->drv->probe(h, err);
}

int hva_drv_prepare(struct hva *h, const struct hva_instance_spec *in, const char *image_path,
		    struct vdc_err *err)
{
	if (!h->drv->prepare)
		return 0;
	return h->drv->prepare(h, in, image_path, err);
}

int hva_drv_domain_xml(struct hva *h, const struct hva_instance_spec *in, const struct hva_define *def,
		       struct strbuf *out, struct vdc_err *err)
{
	if (!h->drv->domain_xml)
		return unsupported(h, "define a domain", err);
	if (def->n_volumes && !h->drv->volumes)
		return unsupported(h, "attach volumes", err);
	if (in->disk.present && !h->drv->disks)
		return unsupported(h, "boot from a disk on a storage host", err);
	return h->drv->domain_xml(h, in, def, out, err);
}

int hva_drv_start(struct hva *h, virDomainPtr dom, struct vdc_err *err)
{
	if (!h->drv->start)
		return unsupported(h, "start a domain", err);
	return h->drv->start(dom, err);
}

int hva_drv_shutdown(struct hva *h, virDomainPtr dom, struct vdc_err *err)
{
	if (!h->drv->shutdown)
		return unsupported(h, "shut a domain down gracefully", err);
	return h->drv->shutdown(dom, err);
}

int hva_drv_destroy(struct hva *h, virDomainPtr dom, struct vdc_err *err)
{
	if (!h->drv->destroy)
		return unsupported(h, "force a domain off", err);
	return h->drv->destroy(dom, err);
}

int hva_drv_reboot(struct hva *h, virDomainPtr dom, struct vdc_err *err)
{
	if (!h->drv->reboot)
		return unsupported(h, "reboot a domain", err);
	return h->drv->reboot(dom, err);
}

int hva_drv_reset(struct hva *h, virDomainPtr dom, struct vdc_err *err)
{
	if (!h->drv->reset)
		return unsupported(h, "reset a domain", err);
	return h->drv->reset(dom, err);
}

int hva_drv_console_follow(struct hva *h, virDomainPtr dom, const char *console_path,
			   struct vdc_err *err)
{
	if (!h->drv->console_follow)
		return 0;
	return h->drv->console_follow(h, dom, console_path, err);
}

void hva_drv_release(struct hva *h)
{
	if (h->drv && h->drv->release)
		h->drv->release(h);
}
