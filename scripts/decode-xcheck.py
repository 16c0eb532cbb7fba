#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Cross-checks core/decode.c's instruction lengths against GNU objdump on
random instruction-like byte strings.  A development aid, not a test: the
two disagree by design on a few points (objdump decodes some encodings the
CPU rejects, and vice versa); disagreements are printed for review.

usage: scripts/decode-xcheck.py [count] [seed]
"""
import os, random, re, subprocess, sys, tempfile

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
tmp = tempfile.mkdtemp()
drv = os.path.join(tmp, 'drv')
subprocess.check_call(['gcc', '-std=gnu11', '-O1', '-I', top + '/core', '-o', drv,
                       top + '/scripts/decode-xcheck-drv.c', top + '/core/decode.c'])

PFX = [0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x26, 0x64]
MODES = [(2, 'i8086'), (3, 'i386'), (4, 'i386:x86-64')]

def candidate(m64):
    b = []
    for _ in range(random.choice([0, 0, 0, 1, 1, 2])):
        b.append(random.choice(PFX))
    if m64 and random.random() < 0.4:
        b.append(0x40 | random.randrange(16))
    r = random.random()
    if r < 0.15:
        b.append(random.choice([0xc4, 0xc5, 0x62, 0x8f]))
    elif r < 0.45:
        b.append(random.randrange(256))
    elif r < 0.85:
        b += [0x0f, random.randrange(256)]
    else:
        b += [0x0f, random.choice([0x38, 0x3a]), random.randrange(256)]
    while len(b) < 15:
        b.append(random.randrange(256))
    return bytes(b[:15])

def objdump_lengths(blobs, arch, amd):
    data = b''.join(c + b'\x90' * 17 for c in blobs)
    f = os.path.join(tmp, 'blob')
    open(f, 'wb').write(data)
    opts = 'intel' + (',amd64' if amd and arch == 'i386:x86-64' else
                      ',intel64' if arch == 'i386:x86-64' else '')
    out = subprocess.run(['objdump', '-D', '-b', 'binary', '-m', arch, '-M', opts,
                          '--insn-width=16', f], capture_output=True, text=True).stdout
    starts = {}
    for line in out.splitlines():
        m = re.match(r'\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t?(.*)', line)
        if m:
            starts[int(m.group(1), 16)] = (len(m.group(2).split()), m.group(3))
    return [starts.get(32 * i) for i in range(len(blobs))]

PREFIX_ONLY = re.compile(r'^((rex\S*|data16|addr32|es|cs|ss|ds|fs|gs|repz|repnz|lock|bnd|notrack)\s*)+$')
bad = 0
for mode, arch in MODES:
    for amd in (0, 1):
        blobs = [candidate(mode == 4) for _ in range(n)]
        od = objdump_lengths(blobs, arch, amd)
        inp = ''.join('%d %d %s\n' % (mode, amd, c.hex()) for c in blobs)
        mine = subprocess.run([drv], input=inp, capture_output=True, text=True).stdout.split()
        for c, o, m in zip(blobs, od, mine):
            m = int(m)
            if o is None:
                continue
            olen, text = o
            obad = '(bad)' in text or text.startswith('.byte')
            if obad:
                continue  # objdump rejects more (SSE prefix rules); not ours to match
            if not obad and m == olen:
                continue
            # objdump prints a REX or prefix that is not followed by an
            # opcode (another prefix comes) as an instruction of its own,
            # and folds FWAIT into the x87 instruction after it.
            if PREFIX_ONLY.match(text) or 0x9b in c[:4]:
                continue
            bad += 1
            print('mode %d amd %d %s: objdump %s "%s", decode %d' %
                  (mode, amd, c.hex(), 'bad' if obad else olen, text.strip(), m))
print('%d disagreements' % bad, file=sys.stderr)
