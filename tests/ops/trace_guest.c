// SPDX-License-Identifier: GPL-2.0
/*
 * trace_guest - a guest whose exits are known, for the tracepoint checks of
 * tests/ops/trace-counts.sh (xkvm only: it is not a transcript test).
 *
 * Theory.  The guest (64-bit C, see tests/guest/lib/kvmtest.h) runs
 * TG_CPUIDS CPUIDs (exits the driver handles without the VMM), then
 * TG_OUTS byte OUTs to port 0x80, one 4-byte MMIO write of TG_MMIO_VAL at
 * TG_MMIO_GPA (outside every slot), STI, NOP and HLT; the host then hands it
 * vector TG_VECTOR with KVM_INTERRUPT, whose handler makes one OUT to port
 * 0x81; after the IRET the guest runs an x87 load from device memory, which
 * no KVM emulates: KVM_EXIT_INTERNAL_ERROR ends the run.  The host counts
 * every KVM_RUN call and prints, as key=value lines, what the trace must
 * show: the KVM_RUN calls (one xkvm_userspace_exit each), the port
 * accesses (one xkvm_pio each), the MMIO accesses, the injected vector and
 * the bytes of the failing instruction.  While the VM is still alive it
 * also prints the driver's own exit counts (/sys/kernel/debug/xkvm/exits
 * and <vm>/vcpu0/exits, when the statistics tree provides them: the per-VM
 * files go with the VM) and the module's held counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvmtest.h"

#define TG_OUTS 7
#define TG_CPUIDS 5
#define TG_MMIO_GPA 0xc0000000ULL
#define TG_MMIO_VAL 0x5a5a1234u
#define TG_VECTOR 0x40
#define TG_EXITS_FILE "/sys/kernel/debug/xkvm/exits"
#define TG_VCPU_EXITS_GLOB "/sys/kernel/debug/xkvm/*/vcpu0/exits"
#define TG_HELD_FILE "/sys/module/xkvm/parameters/held"

static void irq_handler(struct guest_frame *f)
{
	(void)f;
	outb(0x81, TG_VECTOR);
}

static void guest_main(void)
{
	int i;

	guest_idt_init();
	guest_handlers[TG_VECTOR] = irq_handler;
	for (i = 0; i < TG_CPUIDS; i++) { /* exits the driver handles itself */
		uint32_t r[4];

		guest_cpuid(0, 0, r);
	}
	for (i = 0; i < TG_OUTS; i++)
		outb(0x80, (uint8_t)i);
	*(volatile uint32_t *)TG_MMIO_GPA = TG_MMIO_VAL;
	/* the NOP leaves STI's shadow: at the HLT exit the guest is ready */
	__asm__ volatile("sti; nop; hlt; cli");
	/* fld dword [rax]: x87, which the MMIO emulator refuses */
	__asm__ volatile(".byte 0xd9, 0x00" ::"a"(TG_MMIO_GPA + 0x10)
			 : "memory");
	guest_hlt_forever();
}

static unsigned int runs;

static uint32_t run_once(struct kt_vcpu *v)
{
	runs++;
	return kt_run_raw(v);
}

/* Print the first line of a file, or "absent". */
static void print_file(const char *key, const char *path)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");

	if (f && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = 0;
		printf("%s=%s\n", key, buf);
	} else {
		printf("%s=absent\n", key);
	}
	if (f)
		fclose(f);
}

/* The one live VM's vCPU 0 counter, when the statistics tree has it. */
static void print_vcpu_exits(void)
{
	glob_t g;

	if (glob(TG_VCPU_EXITS_GLOB, 0, NULL, &g) == 0 && g.gl_pathc == 1)
		print_file("vcpu0_exits", g.gl_pathv[0]);
	else
		printf("vcpu0_exits=absent\n");
	globfree(&g);
}

int main(void)
{
	struct kt_vcpu *v;
	struct kvm_interrupt irq = { .irq = TG_VECTOR };
	struct kvm_run *run;
	unsigned int pios = 0, i;
	uint32_t r, val;

	kt_init("trace_guest");
	v = kt_create_default();
	run = v->run;
	kt_setup_long(v, (uint64_t)(uintptr_t)guest_main, KT_STACK_ENTRY);
	for (i = 0; i < TG_OUTS; i++) {
		r = run_once(v);
		KT_ASSERT(r == KVM_EXIT_IO && run->io.port == 0x80,
			  "OUT %u: exit %s", i, kt_exit_name(r));
		pios++;
	}
	r = run_once(v);
	KT_ASSERT(r == KVM_EXIT_MMIO && run->mmio.is_write &&
			  run->mmio.phys_addr == TG_MMIO_GPA,
		  "MMIO write: exit %s", kt_exit_name(r));
	memcpy(&val, run->mmio.data, 4);
	KT_ASSERT_EQ(val, TG_MMIO_VAL);
	r = run_once(v);
	KT_ASSERT(r == KVM_EXIT_HLT, "HLT: exit %s", kt_exit_name(r));
	KT_ASSERT(run->ready_for_interrupt_injection, "not ready at the HLT");
	KT_ASSERT(ioctl(v->fd, KVM_INTERRUPT, &irq) == 0, "KVM_INTERRUPT: %s",
		  strerror(errno));
	r = run_once(v);
	KT_ASSERT(r == KVM_EXIT_IO && run->io.port == 0x81,
		  "the handler's OUT: exit %s", kt_exit_name(r));
	pios++;
	r = run_once(v);
	KT_ASSERT(r == KVM_EXIT_INTERNAL_ERROR &&
			  run->internal.suberror ==
				  KVM_INTERNAL_ERROR_EMULATION,
		  "x87 on MMIO: exit %s", kt_exit_name(r));

	/* the VM is alive: the driver's counters include all of it */
	print_file("driver_exits", TG_EXITS_FILE);
	print_vcpu_exits();
	print_file("held_live", TG_HELD_FILE);
	printf("runs=%u\n", runs);
	printf("cpuids=%d\n", TG_CPUIDS);
	printf("pios=%u\n", pios);
	printf("mmio_writes=1\n");
	printf("mmio_gpa=0x%llx\n", (unsigned long long)TG_MMIO_GPA);
	printf("mmio_value=0x%x\n", TG_MMIO_VAL);
	printf("vector=%d\n", TG_VECTOR);
	printf("insn=d900\n");
	fflush(stdout);
	return 0;
}
