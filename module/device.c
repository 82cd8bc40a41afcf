// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv: /dev/unpriv, the misc device every unpriv object is made from.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "stats.h"

static long unpriv_device_check_extension(unsigned long cap)
{
	switch (cap) {
	case UNPRIV_CAP_FPU:
		return unpriv_vcpu_fpu_size();
	case UNPRIV_CAP_STATS:
		return 1;
	default:
		return 0;
	}
}

static long unpriv_device_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	switch (cmd) {
	case UNPRIV_GET_API_VERSION:
		if (arg)
			return -EINVAL;
		return UNPRIV_API_VERSION;
	case UNPRIV_CHECK_EXTENSION:
		return unpriv_device_check_extension(arg);
	case UNPRIV_CREATE_AS:
		return unpriv_as_create(arg);
	case UNPRIV_CREATE_VCPU:
		return unpriv_vcpu_create(arg);
	case UNPRIV_GET_GLOBAL_STATS_FD:
		return unpriv_stats_global_getfd(arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations unpriv_device_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= unpriv_device_ioctl,
};

/*
 * Read-write for owner and group, as /dev/kvm under Debian's udev rules:
 * module/60-unpriv.rules gives the group to "unpriv".  Without the rule
 * the node is root:root, which is root's alone.  Never world-accessible:
 * see "Device permissions" in Documentation/unpriv-api.rst.
 */
static struct miscdevice unpriv_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "unpriv",
	.fops	= &unpriv_device_fops,
	.mode	= 0660,
};

int unpriv_device_register(void)
{
	return misc_register(&unpriv_miscdev);
}

void unpriv_device_unregister(void)
{
	misc_deregister(&unpriv_miscdev);
}
