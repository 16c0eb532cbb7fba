// SPDX-License-Identifier: GPL-2.0
/*
 * kvmrun - a small VMM for /dev/kvm: load a flat binary or an ELF image
 * into one memory slot, start it in real, 32-bit protected or 64-bit long
 * mode by setting REGS/SREGS directly (no firmware), and relay the guest's
 * debug console.
 *
 * Theory.  The guest's only devices are two ports.  An OUT to 0xE9 writes
 * bytes to stdout (the Bochs/QEMU debug console convention); an OUT of value
 * v to 0xF4 ends the run and kvmrun exits with status v & 0xff (the QEMU
 * isa-debug-exit idea, without its 2v+1 encoding).  HLT also ends the run
 * (status 0): without an interrupt controller nothing could ever wake the
 * vCPU.  Anything the VM cannot continue from (SHUTDOWN, FAIL_ENTRY,
 * INTERNAL_ERROR, an unknown exit) is reported with the registers and gives
 * status 2.  Status 1 is kept for kvmrun's own errors (usage, file, ioctl).
 *
 * System structures live in low memory below 0x10000 (GDT at 0x1000, long
 * mode page tables from 0x2000) and must not overlap the loaded image.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONSOLE_PORT 0xe9
#define EXIT_PORT 0xf4
#define GDT_GPA 0x1000
#define PT_GPA 0x2000
#define SYS_END 0x10000 /* system area [GDT_GPA, SYS_END) */
#define STATUS_VMERR 2
#define STATUS_TOOL 1

enum mode {
	MODE_DEFAULT,
	MODE_REAL,
	MODE_PROT,
	MODE_LONG
};

static const char usage_text[] =
	"NAME\n"
	"    kvmrun - run a bare-metal guest image on /dev/kvm\n"
	"\n"
	"SYNOPSIS\n"
	"    kvmrun [-m real|prot|long] [-a loadaddr] [-e entry] [-M memsize_mb]\n"
	"           [-s] [-v] [-h] file\n"
	"\n"
	"DESCRIPTION\n"
	"    Loads FILE into guest memory and runs it on one vCPU.  An ELF file\n"
	"    (ELF32 or ELF64, detected by its magic) has its PT_LOAD segments copied\n"
	"    to their physical addresses (p_paddr) and starts at e_entry; anything\n"
	"    else is a flat binary copied to LOADADDR and started there.\n"
	"\n"
	"    The guest starts with the registers a loader would leave, no firmware:\n"
	"      real  CS:IP from the entry (CS = entry bits 16-19 << 12), other\n"
	"            segments 0, SP 0x7c00, CR0 = 0x60000010.\n"
	"      prot  32-bit flat code/data segments (GDT at 0x1000), paging off,\n"
	"            ESP = top of RAM (at most 4 GiB).\n"
	"      long  64-bit flat segments, CR0.PG, CR4.PAE, EFER.LME|LMA, page tables\n"
	"            at 0x2000 mapping the first max(4 GiB, RAM) identically with\n"
	"            2 MiB pages, RSP = top of RAM (at most 4 GiB).\n"
	"    In every mode RFLAGS = 0x2 (interrupts off) and the other general\n"
	"    registers are 0.  The CPUID table is KVM_GET_SUPPORTED_CPUID's.\n"
	"\n"
	"OPTIONS\n"
	"    -m MODE    real, prot or long.  Default: long for ELF64, prot for\n"
	"               ELF32, real for flat binaries.\n"
	"    -a ADDR    load address of a flat binary.  Default 0x7c00 in real mode,\n"
	"               0x100000 in prot and long mode.  Ignored for ELF files.\n"
	"    -e ADDR    entry point.  Default: e_entry for ELF, ADDR for flat.\n"
	"    -M MB      guest RAM in MiB at guest physical 0 (default 128).\n"
	"    -s         print the number of exits by reason on stderr at the end.\n"
	"    -v         trace every exit on stderr.\n"
	"    -h         this text.\n"
	"\n"
	"GUEST INTERFACE\n"
	"    OUT to port 0xE9    each byte written goes to stdout.  IN returns 0xE9.\n"
	"    OUT to port 0xF4    (1, 2 or 4 bytes) of value V ends the run; kvmrun\n"
	"                        exits with status V & 0xff.\n"
	"    HLT                 ends the run; kvmrun exits with status 0.\n"
	"    Other ports: OUT is ignored, IN returns all ones.  Reads from guest\n"
	"    physical addresses without RAM (MMIO) return all ones, writes are\n"
	"    ignored.  Both are shown with -v.\n"
	"\n"
	"EXIT STATUS\n"
	"    V & 0xff   the guest wrote V to port 0xF4\n"
	"    0          the guest executed HLT\n"
	"    1          kvmrun failed (usage, file, /dev/kvm, ioctl error)\n"
	"    2          the VM failed: triple fault (SHUTDOWN), FAIL_ENTRY,\n"
	"               INTERNAL_ERROR or an exit kvmrun does not know; the\n"
	"               registers are printed on stderr\n"
	"\n"
	"EXAMPLE\n"
	"    kvmrun -s build/demo/hello.elf\n";

static struct {
	enum mode mode;
	uint64_t load, entry, mem;
	int have_load, have_entry, stats, verbose;
	const char *file;
} opt = { .mode = MODE_DEFAULT, .mem = 128ull << 20 };

static int kvm_fd, vm_fd, vcpu_fd;
static struct kvm_run *run;
static uint8_t *ram;
static uint64_t exit_counts[64];

static void die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kvmrun: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(STATUS_TOOL);
}

static long xioctl(int fd, unsigned long req, void *arg, const char *name)
{
	long r = ioctl(fd, req, arg);

	if (r < 0)
		die("%s: %s", name, strerror(errno));
	return r;
}
#define XIOCTL(fd, req, arg) xioctl(fd, req, arg, #req)

static uint64_t parse_num(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end)
		die("bad %s '%s'", what, s);
	return v;
}

static const char *exit_name(uint32_t r)
{
	static const char *const names[] = {
		"UNKNOWN",    "EXCEPTION",
		"IO",         "HYPERCALL",
		"DEBUG",      "HLT",
		"MMIO",       "IRQ_WINDOW_OPEN",
		"SHUTDOWN",   "FAIL_ENTRY",
		"INTR",       "SET_TPR",
		"TPR_ACCESS", "S390_SIEIC",
		"S390_RESET", "DCR",
		"NMI",        "INTERNAL_ERROR",
	};

	if (r < sizeof(names) / sizeof(names[0]))
		return names[r];
	if (r == KVM_EXIT_SYSTEM_EVENT)
		return "SYSTEM_EVENT";
	return "?";
}

/* ------------------------------------------------------------ loading -- */

static void check_range(uint64_t gpa, uint64_t len, const char *what)
{
	if (gpa > opt.mem || len > opt.mem - gpa)
		die("%s [0x%llx, 0x%llx) does not fit in %llu MiB of RAM", what,
		    (unsigned long long)gpa, (unsigned long long)(gpa + len),
		    (unsigned long long)(opt.mem >> 20));
	if (opt.mode != MODE_REAL && len && gpa < SYS_END &&
	    gpa + len > GDT_GPA)
		die("%s [0x%llx, 0x%llx) overlaps kvmrun's GDT/page tables at [0x%x, 0x%x)",
		    what, (unsigned long long)gpa,
		    (unsigned long long)(gpa + len), GDT_GPA, SYS_END);
}

static void load_elf(const uint8_t *img, size_t size)
{
	int is64 = img[EI_CLASS] == ELFCLASS64;
	uint64_t phoff, entry;
	unsigned phnum, phentsize;

	if (img[EI_CLASS] != ELFCLASS32 && !is64)
		die("%s: unknown ELF class %u", opt.file, img[EI_CLASS]);
	if (is64) {
		const Elf64_Ehdr *h = (const void *)img;

		if (size < sizeof(*h))
			die("%s: truncated ELF header", opt.file);
		phoff = h->e_phoff;
		phnum = h->e_phnum;
		phentsize = h->e_phentsize;
		entry = h->e_entry;
	} else {
		const Elf32_Ehdr *h = (const void *)img;

		if (size < sizeof(*h))
			die("%s: truncated ELF header", opt.file);
		phoff = h->e_phoff;
		phnum = h->e_phnum;
		phentsize = h->e_phentsize;
		entry = h->e_entry;
	}
	if (opt.mode == MODE_DEFAULT)
		opt.mode = is64 ? MODE_LONG : MODE_PROT;
	if (!opt.have_entry)
		opt.entry = entry;
	if (phnum == 0 || phoff > size ||
	    (uint64_t)phnum * phentsize > size - phoff)
		die("%s: bad program headers", opt.file);
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *p = img + phoff + (uint64_t)i * phentsize;
		uint64_t type, off, paddr, filesz, memsz;

		if (is64) {
			const Elf64_Phdr *ph = (const void *)p;

			type = ph->p_type;
			off = ph->p_offset;
			paddr = ph->p_paddr;
			filesz = ph->p_filesz;
			memsz = ph->p_memsz;
		} else {
			const Elf32_Phdr *ph = (const void *)p;

			type = ph->p_type;
			off = ph->p_offset;
			paddr = ph->p_paddr;
			filesz = ph->p_filesz;
			memsz = ph->p_memsz;
		}
		if (type != PT_LOAD || memsz == 0)
			continue;
		if (filesz > memsz || off > size || filesz > size - off)
			die("%s: bad PT_LOAD segment %u", opt.file, i);
		check_range(paddr, memsz, "ELF segment");
		memcpy(ram + paddr, img + off, filesz);
		memset(ram + paddr + filesz, 0, memsz - filesz);
		if (opt.verbose)
			fprintf(stderr,
				"kvmrun: PT_LOAD 0x%llx filesz 0x%llx memsz 0x%llx\n",
				(unsigned long long)paddr,
				(unsigned long long)filesz,
				(unsigned long long)memsz);
	}
}

static void load_file(void)
{
	int fd = open(opt.file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *img;

	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s: %s", opt.file, strerror(errno));
	img = malloc((size_t)st.st_size + 1);
	if (!img)
		die("out of memory");
	if (read(fd, img, (size_t)st.st_size) != st.st_size)
		die("%s: short read", opt.file);
	close(fd);
	if (st.st_size >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0) {
		load_elf(img, (size_t)st.st_size);
	} else {
		if (opt.mode == MODE_DEFAULT)
			opt.mode = MODE_REAL;
		if (!opt.have_load)
			opt.load = opt.mode == MODE_REAL ? 0x7c00 : 0x100000;
		if (!opt.have_entry)
			opt.entry = opt.load;
		check_range(opt.load, (uint64_t)st.st_size, "image");
		memcpy(ram + opt.load, img, (size_t)st.st_size);
	}
	free(img);
}

/* ------------------------------------------------------------ CPU state -- */

static struct kvm_segment seg(uint16_t sel, uint64_t base, uint32_t limit,
			      uint8_t type, uint8_t db, uint8_t l, uint8_t g)
{
	struct kvm_segment s = {
		.base = base,
		.limit = limit,
		.selector = sel,
		.type = type,
		.present = 1,
		.db = db,
		.s = 1,
		.l = l,
		.g = g,
	};
	return s;
}

static void setup_cpuid(void)
{
	struct kvm_cpuid2 *c;
	int n = 256;

	for (;;) {
		c = calloc(1, sizeof(*c) + (size_t)n * sizeof(c->entries[0]));
		if (!c)
			die("out of memory");
		c->nent = (uint32_t)n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG)
			die("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(c);
		n *= 2;
	}
	XIOCTL(vcpu_fd, KVM_SET_CPUID2, c);
	free(c);
}

static void setup_cpu(void)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	uint64_t top = opt.mem < (4ull << 30) ? opt.mem : (4ull << 30);
	uint64_t *gdt = (uint64_t *)(ram + GDT_GPA);

	XIOCTL(vcpu_fd, KVM_GET_SREGS, &s);
	memset(&r, 0, sizeof(r));
	r.rflags = 2;
	if (opt.mode == MODE_REAL) {
		uint16_t cs = (uint16_t)((opt.entry >> 4) & 0xf000);

		if (opt.entry >= 0x100000)
			die("real-mode entry 0x%llx is above 1 MiB",
			    (unsigned long long)opt.entry);
		s.cs = seg(cs, (uint64_t)cs << 4, 0xffff, 0xb, 0, 0, 0);
		s.ds = s.es = s.fs = s.gs = s.ss =
			seg(0, 0, 0xffff, 0x3, 0, 0, 0);
		s.cr0 = 0x60000010;
		s.idt.base = 0;
		s.idt.limit = 0x3ff;
		r.rip = opt.entry & 0xffff;
		r.rsp = 0x7c00;
	} else {
		/* null, 0x08 code64, 0x10 data, 0x18 code32 */
		gdt[0] = 0;
		gdt[1] = 0x00af9b000000ffffull;
		gdt[2] = 0x00cf93000000ffffull;
		gdt[3] = 0x00cf9b000000ffffull;
		s.gdt.base = GDT_GPA;
		s.gdt.limit = 4 * 8 - 1;
		s.idt.base = 0;
		s.idt.limit = 0;
		s.ds = s.es = s.fs = s.gs = s.ss =
			seg(0x10, 0, 0xffffffff, 0x3, 1, 0, 1);
		r.rip = opt.entry;
		r.rsp = top;
		if (opt.mode == MODE_PROT) {
			if (opt.entry >> 32)
				die("32-bit entry 0x%llx is above 4 GiB",
				    (unsigned long long)opt.entry);
			s.cs = seg(0x18, 0, 0xffffffff, 0xb, 1, 0, 1);
			s.cr0 = 0x11;
			s.cr4 = 0;
			s.efer = 0;
		} else {
			uint64_t gib = (opt.mem + (1ull << 30) - 1) >> 30;
			uint64_t *pml4 = (uint64_t *)(ram + PT_GPA);
			uint64_t *pdpt = (uint64_t *)(ram + PT_GPA + 0x1000);

			if (gib < 4)
				gib = 4;
			if (PT_GPA + (2 + gib) * 0x1000 > SYS_END)
				die("too much RAM for kvmrun's page tables (max %d GiB)",
				    (SYS_END - PT_GPA) / 0x1000 - 2);
			memset(pml4, 0, 0x2000);
			pml4[0] = (PT_GPA + 0x1000) | 3;
			for (uint64_t g = 0; g < gib; g++) {
				uint64_t pd_gpa = PT_GPA + 0x2000 + g * 0x1000;
				uint64_t *pd = (uint64_t *)(ram + pd_gpa);

				pdpt[g] = pd_gpa | 3;
				for (uint64_t i = 0; i < 512; i++)
					pd[i] = (g << 30) | (i << 21) | 0x83;
			}
			s.cs = seg(0x08, 0, 0xffffffff, 0xb, 0, 1, 1);
			s.cr0 = 0x80050033;
			s.cr3 = PT_GPA;
			s.cr4 = 0x620;
			s.efer = 0x500;
		}
	}
	XIOCTL(vcpu_fd, KVM_SET_SREGS, &s);
	XIOCTL(vcpu_fd, KVM_SET_REGS, &r);
}

/* ----------------------------------------------------------------- run -- */

static void dump_regs(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu_fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "  (registers unavailable: %s)\n",
			strerror(errno));
		return;
	}
	fprintf(stderr,
		"  rip=%016llx rflags=%016llx\n"
		"  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		"  rsi=%016llx rdi=%016llx rsp=%016llx rbp=%016llx\n"
		"  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
		"  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
		"  cs=%04x base=%llx l=%u db=%u  ss=%04x  ds=%04x\n"
		"  cr0=%llx cr2=%llx cr3=%llx cr4=%llx efer=%llx\n"
		"  gdt=%llx/%x idt=%llx/%x\n",
		r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
		r.rsp, r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14,
		r.r15, s.cs.selector, s.cs.base, s.cs.l, s.cs.db, s.ss.selector,
		s.ds.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.gdt.base,
		s.gdt.limit, s.idt.base, s.idt.limit);
}

static void print_stats(void)
{
	uint64_t total = 0;

	if (!opt.stats)
		return;
	fprintf(stderr, "kvmrun: exits by reason:\n");
	for (unsigned i = 0; i < sizeof(exit_counts) / sizeof(exit_counts[0]);
	     i++) {
		if (!exit_counts[i])
			continue;
		fprintf(stderr, "  %-16s %llu\n", exit_name(i),
			(unsigned long long)exit_counts[i]);
		total += exit_counts[i];
	}
	fprintf(stderr, "  %-16s %llu\n", "total", (unsigned long long)total);
}

static void finish(int status, const char *why)
{
	fflush(stdout);
	if (opt.verbose)
		fprintf(stderr, "kvmrun: %s, exit status %d\n", why, status);
	print_stats();
	exit(status);
}

static void vm_failed(const char *what)
{
	fflush(stdout);
	fprintf(stderr, "kvmrun: guest stopped: %s\n", what);
	dump_regs();
	print_stats();
	exit(STATUS_VMERR);
}

static void handle_io(void)
{
	uint8_t *d = (uint8_t *)run + run->io.data_offset;
	uint32_t n = run->io.count, sz = run->io.size;
	int out = run->io.direction == KVM_EXIT_IO_OUT;

	if (opt.verbose)
		fprintf(stderr, "kvmrun: IO %s port 0x%x size %u count %u\n",
			out ? "out" : "in", run->io.port, sz, n);
	if (out && run->io.port == CONSOLE_PORT) {
		for (uint32_t i = 0; i < n; i++)
			putchar(d[i * sz]);
		return;
	}
	if (out && run->io.port == EXIT_PORT) {
		uint32_t v = 0;
		char why[64];

		memcpy(&v, d, sz <= 4 ? sz : 4);
		snprintf(why, sizeof(why), "guest wrote 0x%x to port 0xf4", v);
		finish((int)(v & 0xff), why);
	}
	if (!out)
		memset(d, run->io.port == CONSOLE_PORT ? CONSOLE_PORT : 0xff,
		       (size_t)n * sz);
}

static void run_loop(void)
{
	char buf[160];

	for (;;) {
		if (ioctl(vcpu_fd, KVM_RUN, NULL) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(buf, sizeof(buf), "KVM_RUN failed: %s",
				 strerror(errno));
			vm_failed(buf);
		}
		if (run->exit_reason <
		    sizeof(exit_counts) / sizeof(exit_counts[0]))
			exit_counts[run->exit_reason]++;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io();
			break;
		case KVM_EXIT_HLT:
			finish(0, "guest halted");
			break;
		case KVM_EXIT_MMIO:
			if (opt.verbose)
				fprintf(stderr,
					"kvmrun: MMIO %s 0x%llx len %u\n",
					run->mmio.is_write ? "write" : "read",
					(unsigned long long)run->mmio.phys_addr,
					run->mmio.len);
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff,
				       sizeof(run->mmio.data));
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_SHUTDOWN:
			vm_failed("SHUTDOWN (triple fault)");
			break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(buf, sizeof(buf),
				 "FAIL_ENTRY, hardware reason 0x%llx",
				 (unsigned long long)run->fail_entry
					 .hardware_entry_failure_reason);
			vm_failed(buf);
			break;
		case KVM_EXIT_INTERNAL_ERROR: {
			int k = snprintf(buf, sizeof(buf),
					 "INTERNAL_ERROR, suberror %u",
					 run->internal.suberror);

			for (uint32_t i = 0; i < run->internal.ndata && i < 4 &&
					     k > 0 && (size_t)k < sizeof(buf);
			     i++)
				k += snprintf(buf + k, sizeof(buf) - (size_t)k,
					      " 0x%llx",
					      (unsigned long long)
						      run->internal.data[i]);
			vm_failed(buf);
			break;
		}
		default:
			snprintf(buf, sizeof(buf), "unhandled exit %s (%u)",
				 exit_name(run->exit_reason), run->exit_reason);
			vm_failed(buf);
		}
	}
}

int main(int argc, char **argv)
{
	struct kvm_userspace_memory_region region;
	int c, mmap_size;

	while ((c = getopt(argc, argv, "m:a:e:M:svh")) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "real"))
				opt.mode = MODE_REAL;
			else if (!strcmp(optarg, "prot"))
				opt.mode = MODE_PROT;
			else if (!strcmp(optarg, "long"))
				opt.mode = MODE_LONG;
			else
				die("unknown mode '%s' (real, prot or long)",
				    optarg);
			break;
		case 'a':
			opt.load = parse_num(optarg, "load address");
			opt.have_load = 1;
			break;
		case 'e':
			opt.entry = parse_num(optarg, "entry");
			opt.have_entry = 1;
			break;
		case 'M':
			opt.mem = parse_num(optarg, "memory size") << 20;
			if (opt.mem < (1ull << 20) || opt.mem > (64ull << 30))
				die("memory size must be 1 MiB .. 64 GiB");
			break;
		case 's':
			opt.stats = 1;
			break;
		case 'v':
			opt.verbose = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return STATUS_TOOL;
		}
	}
	if (optind != argc - 1) {
		fputs(usage_text, stderr);
		return STATUS_TOOL;
	}
	opt.file = argv[optind];
	setvbuf(stdout, NULL, _IONBF, 0);

	ram = mmap(NULL, opt.mem, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		die("cannot allocate %llu MiB: %s",
		    (unsigned long long)(opt.mem >> 20), strerror(errno));
	load_file();

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		die("/dev/kvm: %s", strerror(errno));
	if (ioctl(kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		die("/dev/kvm: unexpected API version");
	vm_fd = (int)XIOCTL(kvm_fd, KVM_CREATE_VM, (void *)0);
	memset(&region, 0, sizeof(region));
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = opt.mem;
	region.userspace_addr = (uint64_t)(uintptr_t)ram;
	XIOCTL(vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
	XIOCTL(vm_fd, KVM_SET_TSS_ADDR, (void *)0xfffbd000ul);
	vcpu_fd = (int)XIOCTL(vm_fd, KVM_CREATE_VCPU, (void *)0);
	mmap_size = (int)XIOCTL(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu_fd, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run: %s", strerror(errno));
	setup_cpuid();
	setup_cpu();
	if (opt.verbose)
		fprintf(stderr, "kvmrun: %s mode, entry 0x%llx, %llu MiB\n",
			opt.mode == MODE_REAL ? "real" :
			opt.mode == MODE_PROT ? "prot" :
						"long",
			(unsigned long long)opt.entry,
			(unsigned long long)(opt.mem >> 20));
	run_loop();
}
