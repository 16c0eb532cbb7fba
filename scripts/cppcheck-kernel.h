/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cppcheck-kernel.h - given to cppcheck (--include) for host/linux/ only.
 * The kernel headers cannot be preprocessed outside kbuild, so the
 * annotations that would otherwise confuse cppcheck's parser are defined
 * away here.  Never compiled.
 */
#define __user
#define __kernel
#define __iomem
#define __percpu
#define __rcu
#define __force
#define __init
#define __exit
#define __initdata
#define __read_mostly
#define __ro_after_init
#define __cold
#define __always_inline inline
#define __must_check
#define __maybe_unused
#define __noreturn
#define noinline
#define asmlinkage
#define notrace
#define likely(x) (x)
#define unlikely(x) (x)
#define module_init(fn)
#define module_exit(fn)
#define MODULE_LICENSE(s)
#define MODULE_AUTHOR(s)
#define MODULE_DESCRIPTION(s)
#define MODULE_ALIAS(s)
#define MODULE_ALIAS_MISCDEV(n)
#define EXPORT_SYMBOL(s)
#define EXPORT_SYMBOL_GPL(s)
#define module_param(name, type, perm)
#define MODULE_PARM_DESC(name, desc)
