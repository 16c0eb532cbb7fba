/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats_linux.h - the statistics' Linux faces (stats_linux.c): the binary
 * statistics fd of KVM_GET_STATS_FD and the debugfs tree /sys/kernel/debug/xkvm.
 */
#ifndef XKVM_STATS_LINUX_H
#define XKVM_STATS_LINUX_H

#include "../../core/xkvm.h"

struct xkvm_vm_stats;

void xkvm_stats_init(void); /* at load: the tree's top; failure is not fatal */
void xkvm_stats_exit(void);
/* The VM's directory "<pid>-<fd>"; NULL (and no directory) on failure. */
struct xkvm_vm_stats *xkvm_stats_vm_add(struct xk_vm *vm, int fd);
void xkvm_stats_vcpu_add(struct xkvm_vm_stats *s, struct xk_vcpu *v);
/* Once the VM is off the list of live VMs (its destruction began). */
void xkvm_stats_vm_remove(struct xkvm_vm_stats *s);
/* KVM_GET_STATS_FD: a new fd, or -errno.  v NULL: the VM's. */
int xkvm_stats_get_fd(struct xk_vm *vm, struct xk_vcpu *v);

#endif /* XKVM_STATS_LINUX_H */
