# SPDX-License-Identifier: GPL-2.0
"""xkvm.py - gdb commands that inspect xkvm's VMs in a live or dead kernel.

Theory.  Everything is read from memory through the module's own debug
information (build/xkvm.ko, loaded with add-symbol-file at the module's load
address): the list of all VMs (xk_vms in core/vm.c, linked by next_vm), each
VM's vCPU list and slot array, the SVM backend's per-VM and per-vCPU state
(struct svm_vm, struct svm_vcpu and its VMCB).  Nothing is called in the
target: a stopped kernel (QEMU's gdbstub, a crash dump) only has memory.

Two facts come from the kernel, not the module: where the direct map of
physical memory starts (page_offset_base) and where the struct page array
starts (vmemmap_base); both move with KASLR.  They are read from the kernel
variables, whose addresses gdb knows from vmlinux's symbols or from
`xkvm ksym NAME ADDR` (the addresses in the box's /proc/kallsyms).  Without
either, Linux's fixed x86-64 values without KASLR are assumed, with a note.

A guest physical address is translated twice, independently: through the
memory slot (the pinned struct page of that guest page, turned into its
physical address), and by walking the hardware nested page tables from the
root's physical address, as the CPU does.  The two must agree.

Commands (`help xkvm` lists them): xkvm vms | vcpus VM | slots VM |
gpa2hpa VM GPA | gsi VM | mmu VM | vmcb VCPU | ksym NAME ADDR.
VM and VCPU are addresses (any gdb expression) of struct xk_vm / xk_vcpu.
"""

import struct

import gdb

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
U64 = (1 << 64) - 1

# Linux x86-64 (4-level paging) without KASLR.
NOKASLR = {"page_offset_base": 0xFFFF888000000000,
           "vmemmap_base": 0xFFFFEA0000000000}

# Kernel variable addresses given with `xkvm ksym`.
ksyms = {}

# struct host_pin (host/linux/host_linux.c): pointers per chunk, log2.
PIN_CHUNK_SHIFT = 15

# Nested page table entries (svm/npt.c).
NPT_P, NPT_RW, NPT_US = 1 << 0, 1 << 1, 1 << 2
NPT_ADDR = 0x000FFFFFFFFFF000
NPT_NX = 1 << 63

GPR_NAMES = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
             "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]

KVM_MEM_FLAGS = {1 << 0: "log-dirty", 1 << 1: "readonly"}

# VMCB intercept bits (svm/vmcb.h, APM vol. 2 appendix B).
MISC1 = {0: "intr", 1: "nmi", 2: "smi", 3: "init", 4: "vintr",
         5: "cr0-sel", 6: "idtr-rd", 7: "gdtr-rd", 8: "ldtr-rd", 9: "tr-rd",
         10: "idtr-wr", 11: "gdtr-wr", 12: "ldtr-wr", 13: "tr-wr",
         14: "rdtsc", 15: "rdpmc", 16: "pushf", 17: "popf", 18: "cpuid",
         19: "rsm", 20: "iret", 21: "int", 22: "invd", 23: "pause",
         24: "hlt", 25: "invlpg", 26: "invlpga", 27: "ioio", 28: "msr",
         29: "task-switch", 30: "ferr-freeze", 31: "shutdown"}
MISC2 = {0: "vmrun", 1: "vmmcall", 2: "vmload", 3: "vmsave", 4: "stgi",
         5: "clgi", 6: "skinit", 7: "rdtscp", 8: "icebp", 9: "wbinvd",
         10: "monitor", 11: "mwait", 12: "mwait-cond", 13: "xsetbv",
         14: "rdpru", 15: "efer-wr-trap"}

EXIT_NAMES = {0x60: "INTR", 0x61: "NMI", 0x62: "SMI", 0x63: "INIT",
              0x64: "VINTR", 0x6f: "RDPMC", 0x72: "CPUID", 0x73: "RSM",
              0x74: "IRET", 0x76: "INVD", 0x77: "PAUSE", 0x78: "HLT",
              0x7a: "INVLPGA", 0x7b: "IOIO", 0x7c: "MSR", 0x7f: "SHUTDOWN",
              0x80: "VMRUN", 0x81: "VMMCALL", 0x82: "VMLOAD", 0x83: "VMSAVE",
              0x84: "STGI", 0x85: "CLGI", 0x86: "SKINIT", 0x87: "RDTSCP",
              0x8a: "MONITOR", 0x8b: "MWAIT", 0x8c: "MWAIT_COND",
              0x8d: "XSETBV", 0x8e: "RDPRU", 0x400: "NPF", U64: "INVALID"}
EVENT_TYPES = {0: "intr", 2: "nmi", 3: "exception", 4: "soft-int"}


# --- reading memory -------------------------------------------------------

def read_u64(addr):
    mem = gdb.selected_inferior().read_memory(addr, 8)
    return struct.unpack("<Q", bytes(mem))[0]


def read_bytes(addr, n):
    return bytes(gdb.selected_inferior().read_memory(addr, n))


def kernel_view():
    """Make gdb read memory as the host kernel sees it.  QEMU's gdbstub
    reads through the selected CPU's current page tables, and a box CPU
    running a guest translates with the guest's: pick a CPU (gdb thread)
    that can read the module's list of VMs."""
    probe = int(gdb.parse_and_eval("&xk_vms"))
    current = gdb.selected_thread()
    for t in [current] + list(gdb.selected_inferior().threads()):
        if t is None:
            continue
        t.switch()
        try:
            read_u64(probe)
        except gdb.MemoryError:
            continue
        if current is not None and t.num != current.num:
            gdb.write("note: thread %d cannot read the host kernel (its CPU "
                      "runs a guest): using thread %d\n"
                      % (current.num, t.num))
        return
    raise gdb.GdbError("no CPU reads the host kernel now (all run guests?): "
                       "continue, interrupt and try again")


def kernel_var(name):
    """The value of a u64 kernel variable: from vmlinux's symbols, from
    `xkvm ksym`, or Linux's value without KASLR (second result False)."""
    if name in ksyms:
        return read_u64(ksyms[name]), True
    sym = gdb.lookup_global_symbol(name)
    if sym is not None:
        try:  # the module's DWARF declares it too, without an address
            return int(sym.value()) & U64, True
        except gdb.error:
            pass
    return NOKASLR[name], False


def direct_map():
    return kernel_var("page_offset_base")


def phys_to_virt(pa):
    return (direct_map()[0] + pa) & U64


def read_phys_page(pa):
    """The 512 entries of the page table page at physical address pa."""
    return struct.unpack("<512Q", read_bytes(phys_to_virt(pa), PAGE_SIZE))


def page_to_phys(page):
    """Physical address of a struct page *, as page_to_phys() computes it."""
    base = kernel_var("vmemmap_base")[0]
    size = gdb.lookup_type("struct page").sizeof
    return ((int(page) - base) // size) << PAGE_SHIFT


def kernel_base_note():
    missing = [n for n in NOKASLR if not kernel_var(n)[1]]
    if missing:
        gdb.write("note: %s not known (no vmlinux symbols, no `xkvm ksym`): "
                  "assuming a kernel booted with nokaslr\n"
                  % ", ".join(missing))


# --- the module's objects ---------------------------------------------------

def ptr(expr, type_name):
    """A gdb expression (address) as a pointer to type_name."""
    v = gdb.parse_and_eval(expr) if isinstance(expr, str) else expr
    return v.cast(gdb.lookup_type(type_name).pointer())


def all_vms():
    vm = gdb.parse_and_eval("xk_vms")
    while int(vm) != 0:
        yield vm
        vm = vm["next_vm"]


def vcpus_of(vm):
    """The VM's vCPUs by id (the list itself is newest first)."""
    out = []
    v = vm["vcpus"]
    while int(v) != 0:
        out.append(v)
        v = v["next"]
    return sorted(out, key=lambda v: int(v["id"]))


def slots_of(vm):
    arr = vm["slots"]
    lo, hi = arr.type.range()
    return [arr[i] for i in range(lo, hi + 1) if int(arr[i]) != 0]


def svm_vm(vm):
    return ptr(vm["vendor"], "struct svm_vm")


def svm_vcpu(v):
    return ptr(v["vendor"], "struct svm_vcpu")


def slot_flags(flags):
    names = [n for bit, n in KVM_MEM_FLAGS.items() if flags & bit]
    return ",".join(names) if names else "-"


def bits(value, names):
    on = [names.get(b, "bit%d" % b) for b in range(32) if value & (1 << b)]
    return " ".join(on) if on else "-"


def event(value):
    """An EVENTINJ / EXITINTINFO value in words."""
    if not value & (1 << 31):
        return "none (0x%x)" % value
    text = "%s vector %d" % (EVENT_TYPES.get((value >> 8) & 7, "type?"),
                             value & 0xFF)
    if value & (1 << 11):
        text += " error 0x%x" % (value >> 32)
    return text + " (0x%x)" % value


# --- translation --------------------------------------------------------------

def find_slot(vm, gpa):
    gfn = gpa >> PAGE_SHIFT
    for s in slots_of(vm):
        base = int(s["base_gfn"])
        if base <= gfn < base + int(s["npages"]):
            return s
    return None


def gpa_via_slot(vm, gpa):
    """(slot, hpa) through the slot's pinned pages; (None, None) if no slot."""
    s = find_slot(vm, gpa)
    if s is None:
        return None, None
    idx = (gpa >> PAGE_SHIFT) - int(s["base_gfn"])
    # host_linux.c keeps the page pointers in chunks of 2^PIN_CHUNK_SHIFT
    page = s["pin"]["chunks"][idx >> PIN_CHUNK_SHIFT][
        idx & ((1 << PIN_CHUNK_SHIFT) - 1)]
    return s, page_to_phys(page) | (gpa & (PAGE_SIZE - 1))


def npt_walk(root_hpa, gpa):
    """Walk the hardware tables: ([(level, entry address, entry)], hpa)."""
    steps = []
    table = root_hpa
    for level in (4, 3, 2, 1):
        index = (gpa >> (PAGE_SHIFT + 9 * (level - 1))) & 511
        entry_pa = table + 8 * index
        entry = read_u64(phys_to_virt(entry_pa))
        steps.append((level, entry_pa, entry))
        if not entry & NPT_P:
            return steps, None
        table = entry & NPT_ADDR
    return steps, table | (gpa & (PAGE_SIZE - 1))


def npt_count(root_hpa):
    """(table pages, present leaves, writable leaves) of the hardware tree."""
    tables = leaves = writable = 0
    todo = [(root_hpa, 4)]
    while todo:
        pa, level = todo.pop()
        tables += 1
        for e in read_phys_page(pa):
            if not e & NPT_P:
                continue
            if level == 1:
                leaves += 1
                writable += bool(e & NPT_RW)
            else:
                todo.append((e & NPT_ADDR, level - 1))
    return tables, leaves, writable


# --- commands -----------------------------------------------------------------

class Xkvm(gdb.Command):
    """Inspect xkvm's VMs: xkvm vms | vcpus VM | slots VM | gpa2hpa VM GPA |
gsi VM | mmu VM | vmcb VCPU | ksym NAME ADDR (see tools/gdb/README.md)."""

    def __init__(self):
        super().__init__("xkvm", gdb.COMMAND_DATA, prefix=True)


class Sub(gdb.Command):
    """A subcommand with NARGS arguments (gdb expressions but for ksym)."""
    name = usage = ""
    nargs = 0

    def __init__(self):
        super().__init__("xkvm " + self.name, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        if len(args) != self.nargs:
            raise gdb.GdbError("usage: xkvm %s %s" % (self.name, self.usage))
        kernel_view()
        self.run(*args)


class Vms(Sub):
    """List every VM: address, creator pid, vCPUs, slots, guest memory.
Sets $xkvm_vm to the newest VM."""
    name = "vms"

    def run(self):
        gdb.write("%-18s %7s %5s %5s %12s\n"
                  % ("VM", "PID", "VCPUS", "SLOTS", "MEMORY"))
        n = 0
        for vm in all_vms():
            if n == 0:  # the newest
                gdb.set_convenience_variable("xkvm_vm", vm)
            n += 1
            gdb.write("0x%016x %7d %5d %5d %8d KiB\n"
                      % (int(vm), int(vm["pid"]), int(vm["nvcpus"]),
                         int(vm["nslots"]), int(vm["npages"]) * 4))
        gdb.write("%d VM(s)\n" % n)


class Vcpus(Sub):
    """List a VM's vCPUs: id, pid of the last KVM_RUN, RIP, in guest, cpu.
Sets $xkvm_vcpu to vCPU 0."""
    name, usage, nargs = "vcpus", "VM", 1

    def run(self, vm):
        vm = ptr(vm, "struct xk_vm")
        gdb.write("%-18s %4s %7s %18s %8s %4s %6s\n"
                  % ("VCPU", "ID", "PID", "RIP", "IN-GUEST", "CPU", "EXITS"))
        for v in vcpus_of(vm):
            if int(v["id"]) == 0:
                gdb.set_convenience_variable("xkvm_vcpu", v)
            gdb.write("0x%016x %4d %7d 0x%016x %8s %4d %6d\n"
                      % (int(v), int(v["id"]), int(v["pid"]),
                         int(v["rip"]) & U64,
                         "yes" if int(v["mode"]) == 1 else "no",
                         int(v["cpu"]), int(v["stats"]["exits"])))


class Slots(Sub):
    """List a VM's memory slots: id, flags, guest physical range, VMM address."""
    name, usage, nargs = "slots", "VM", 1

    def run(self, vm):
        vm = ptr(vm, "struct xk_vm")
        gdb.write("%4s %-10s %-37s %8s %18s %18s\n"
                  % ("ID", "FLAGS", "GUEST-PHYSICAL", "PAGES", "VMM-ADDR",
                     "PIN"))
        for s in slots_of(vm):
            start = int(s["base_gfn"]) << PAGE_SHIFT
            end = start + (int(s["npages"]) << PAGE_SHIFT) - 1
            gdb.write("%4d %-10s 0x%016x-0x%016x %8d 0x%016x 0x%016x\n"
                      % (int(s["id"]), slot_flags(int(s["flags"])), start,
                         end, int(s["npages"]), int(s["uaddr"]),
                         int(s["pin"])))


class Gpa2hpa(Sub):
    """Translate a guest physical address: through the slot's pinned page
and through the nested page tables, and check that both agree.  Sets
$xkvm_hpa and $xkvm_kva (host physical, kernel virtual address)."""
    name, usage, nargs = "gpa2hpa", "VM GPA", 2

    def run(self, vm, gpa):
        vm = ptr(vm, "struct xk_vm")
        gpa = int(gdb.parse_and_eval(gpa)) & U64
        kernel_base_note()
        s, hpa = gpa_via_slot(vm, gpa)
        if s is None:
            gdb.write("gpa 0x%x: in no memory slot (MMIO for the guest)\n"
                      % gpa)
        else:
            uaddr = int(s["uaddr"]) + gpa - (int(s["base_gfn"]) << PAGE_SHIFT)
            gdb.write("gpa 0x%x: slot %d, VMM address 0x%x\n"
                      % (gpa, int(s["id"]), uaddr))
            gdb.write("  via slot:  hpa 0x%x kva 0x%x\n"
                      % (hpa, phys_to_virt(hpa)))
        root = int(svm_vm(vm)["npt_root"]["hpa"])
        steps, npt_hpa = npt_walk(root, gpa)
        for level, entry_pa, entry in steps:
            gdb.write("  npt L%d entry at hpa 0x%x: 0x%016x%s\n"
                      % (level, entry_pa, entry,
                         "" if entry & NPT_P else " (not present)"))
        if npt_hpa is None:
            gdb.write("  via NPT:   not mapped\n")
        else:
            gdb.write("  via NPT:   hpa 0x%x kva 0x%x %s\n"
                      % (npt_hpa, phys_to_virt(npt_hpa),
                         "writable" if steps[-1][2] & NPT_RW else "read-only"))
        if hpa is not None and npt_hpa is not None:
            gdb.write("  agree: %s\n" % ("yes" if hpa == npt_hpa else
                                         "NO: slot and NPT differ"))
        found = hpa if hpa is not None else npt_hpa
        if found is not None:
            kva = phys_to_virt(found)
            gdb.set_convenience_variable("xkvm_hpa", found)
            gdb.set_convenience_variable("xkvm_kva", kva)
            data = read_bytes(kva, min(16, PAGE_SIZE - (kva % PAGE_SIZE)))
            gdb.write("  bytes: %s\n" % " ".join("%02x" % b for b in data))


class Gsi(Sub):
    """Print a VM's GSI routing table (none without an in-kernel irqchip)."""
    name, usage, nargs = "gsi", "VM", 1

    CHIPS = {0: "PIC master", 1: "PIC slave", 2: "IOAPIC"}

    def run(self, vm):
        vm = ptr(vm, "struct xk_vm")
        chip = vm["irqchip"]
        if int(chip) == 0:
            gdb.write("VM 0x%x: no in-kernel irqchip (KVM_CREATE_IRQCHIP not "
                      "called): no GSI routes\n" % int(vm))
            return
        table = chip["router"]["table"]
        if int(table) == 0:
            gdb.write("VM 0x%x: irqchip 0x%x: no GSI routes\n"
                      % (int(vm), int(chip)))
            return
        n = int(table["n"])
        gdb.write("VM 0x%x: irqchip 0x%x, %d GSI route(s)\n"
                  % (int(vm), int(chip), n))
        routes = table["r"]
        for i in range(n):
            r = routes[i]
            if int(r["type"]) == 1:  # KVM_IRQ_ROUTING_IRQCHIP
                what = "%s pin %d" % (self.CHIPS.get(int(r["chip"]), "chip %d"
                                                     % int(r["chip"])),
                                      int(r["pin"]))
            else:  # KVM_IRQ_ROUTING_MSI
                what = "MSI address 0x%x data 0x%x" % (int(r["msi_addr"]),
                                                       int(r["msi_data"]))
            gdb.write("  gsi %3d -> %s\n" % (int(r["gsi"]), what))


class Mmu(Sub):
    """Print a VM's nested paging: root, levels, table pages, ASIDs."""
    name, usage, nargs = "mmu", "VM", 1

    def run(self, vm):
        vm = ptr(vm, "struct xk_vm")
        root = svm_vm(vm)["npt_root"]
        root_hpa = int(root["hpa"])
        gdb.write("VM 0x%x: NPT root 0x%x (hpa 0x%x), %d levels, 4 KiB "
                  "leaves\n" % (int(vm), int(root), root_hpa,
                                int(root["level"])))
        tables, leaves, writable = npt_count(root_hpa)
        gdb.write("  table pages: %d walked, %d counted by the driver "
                  "(mmu_pages)\n" % (tables, int(vm["stats"]["mmu_pages"])))
        gdb.write("  mapped pages: %d (%d writable), slot pages: %d\n"
                  % (leaves, writable, int(vm["npages"])))
        for v in vcpus_of(vm):
            s = svm_vcpu(v)
            c = s["vmcb"]["control"]
            gdb.write("  vcpu %d: asid %d (cpu %d, generation %d), nested "
                      "paging %s, n_cr3 0x%x%s\n"
                      % (int(v["id"]), int(c["asid"]), int(s["asid_cpu"]),
                         int(s["asid_gen"]),
                         "on" if int(c["np_enable"]) & 1 else "off",
                         int(c["n_cr3"]),
                         "" if int(c["n_cr3"]) == root_hpa else
                         " (not the root!)"))


class Vmcb(Sub):
    """Dump a vCPU's VMCB (control and save areas) and the core's GPRs."""
    name, usage, nargs = "vmcb", "VCPU", 1

    def run(self, vcpu):
        v = ptr(vcpu, "struct xk_vcpu")
        s = svm_vcpu(v)
        vmcb = s["vmcb"]
        c, sv = vmcb["control"], vmcb["save"]

        def x(val):
            return int(val) & U64
        w = gdb.write
        w("vcpu %d of VM 0x%x: VMCB 0x%x (hpa 0x%x), %s\n"
          % (int(v["id"]), int(v["vm"]), int(vmcb), int(s["vmcb_pa"]),
             "in the guest: the CPU holds the live state"
             if int(v["mode"]) == 1 else "outside the guest"))
        w("control:\n")
        w("  intercept cr 0x%08x dr 0x%08x exceptions 0x%08x\n"
          % (x(c["intercept_cr"]), x(c["intercept_dr"]),
             x(c["intercept_exc"])))
        w("  intercept misc1 0x%08x: %s\n"
          % (x(c["intercept_misc1"]), bits(x(c["intercept_misc1"]), MISC1)))
        w("  intercept misc2 0x%08x: %s\n"
          % (x(c["intercept_misc2"]), bits(x(c["intercept_misc2"]), MISC2)))
        code = x(c["exit_code"])
        name = EXIT_NAMES.get(code)
        if name is None and 0x40 <= code < 0x60:
            name = "EXCP%d" % (code - 0x40)
        elif name is None and 0 <= code < 0x40:
            name = "%s_%s%d" % ("WRITE" if code & 0x10 else "READ",
                                "DR" if code & 0x20 else "CR", code & 0xF)
        w("  exit code 0x%x (%s) info1 0x%x info2 0x%x\n"
          % (code, name or "?", x(c["exit_info1"]), x(c["exit_info2"])))
        w("  exit int info: %s\n" % event(x(c["exit_int_info"])))
        w("  event inj:     %s\n" % event(x(c["event_inj"])))
        w("  reinject:      %s\n" % event(x(s["reinject"])))
        w("  v_intr 0x%x int_state 0x%x asid %d tlb_control %d np_enable %d"
          " n_cr3 0x%x\n"
          % (x(c["v_intr"]), x(c["int_state"]), x(c["asid"]),
             x(c["tlb_control"]), x(c["np_enable"]), x(c["n_cr3"])))
        w("  tsc_offset 0x%x next_rip 0x%x iopm 0x%x msrpm 0x%x\n"
          % (x(c["tsc_offset"]), x(c["next_rip"]), x(c["iopm_base"]),
             x(c["msrpm_base"])))
        w("save:\n")
        for seg in ("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldtr",
                    "gdtr", "idtr"):
            g = sv[seg]
            w("  %-4s sel 0x%04x attr 0x%04x limit 0x%08x base 0x%016x\n"
              % (seg, x(g["selector"]), x(g["attrib"]), x(g["limit"]),
                 x(g["base"])))
        w("  cpl %d efer 0x%x\n" % (x(sv["cpl"]), x(sv["efer"])))
        w("  cr0 0x%x cr2 0x%x cr3 0x%x cr4 0x%x\n"
          % (x(sv["cr0"]), x(sv["cr2"]), x(sv["cr3"]), x(sv["cr4"])))
        w("  dr6 0x%x dr7 0x%x g_pat 0x%x\n"
          % (x(sv["dr6"]), x(sv["dr7"]), x(sv["g_pat"])))
        w("  rip 0x%x rsp 0x%x rflags 0x%x rax 0x%x\n"
          % (x(sv["rip"]), x(sv["rsp"]), x(sv["rflags"]), x(sv["rax"])))
        w("core (vcpu):\n")
        w("  rip 0x%x rflags 0x%x cr8 0x%x\n"
          % (x(v["rip"]), x(v["rflags"]), x(v["cr8"])))
        gpr = v["gpr"]
        for i in range(0, 16, 4):
            w("  " + "  ".join("%-3s 0x%016x" % (GPR_NAMES[j], x(gpr[j]))
                               for j in range(i, i + 4)) + "\n")


class Ksym(Sub):
    """Tell where a kernel variable is (from the box's /proc/kallsyms):
xkvm ksym page_offset_base ADDR; xkvm ksym vmemmap_base ADDR."""
    name, usage, nargs = "ksym", "NAME ADDR", 2

    def run(self, name, addr):
        if name not in NOKASLR:
            raise gdb.GdbError("known: " + ", ".join(NOKASLR))
        ksyms[name] = int(addr, 0)
        gdb.write("%s at 0x%x = 0x%x\n"
                  % (name, ksyms[name], kernel_var(name)[0]))


Xkvm()
for _cmd in (Vms, Vcpus, Slots, Gpa2hpa, Gsi, Mmu, Vmcb, Ksym):
    _cmd()
