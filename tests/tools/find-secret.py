#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Look for secrets in a live process's memory.

    find-secret.py PID MASTER_KEY_FILE [EC_KEY_PEM ...]

Reads every readable mapping of /proc/PID/mem and looks for the 32 bytes
of the master key (the file holds them as hex) and for the private scalar
of each EC key, big-endian as in DER and little-endian as OpenSSL keeps it
in a BIGNUM. Prints one line per hit; exits 0 when nothing was found, 1
when something was, 2 when the process could not be read.
"""
import sys

from cryptography.hazmat.primitives.serialization import load_pem_private_key


def secrets(master_file, pem_files):
    with open(master_file) as f:
        yield "master key", bytes.fromhex(f.read().strip())
    for path in pem_files:
        with open(path, "rb") as f:
            key = load_pem_private_key(f.read(), password=None)
        n = (key.curve.key_size + 7) // 8
        d = key.private_numbers().private_value.to_bytes(n, "big")
        yield f"{path} (big-endian)", d
        yield f"{path} (little-endian)", d[::-1]


def main():
    pid, master_file, pems = sys.argv[1], sys.argv[2], sys.argv[3:]
    wanted = list(secrets(master_file, pems))
    hits = 0
    try:
        maps = open(f"/proc/{pid}/maps").read().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", buffering=0)
    except OSError as e:
        print(f"cannot read process {pid}: {e}")
        return 2
    for line in maps:
        fields = line.split()
        lo, hi = (int(x, 16) for x in fields[0].split("-"))
        name = fields[5] if len(fields) > 5 else "[anon]"
        if not fields[1].startswith("r") or name in ("[vvar]", "[vsyscall]"):
            continue
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except (OSError, MemoryError, OverflowError):
            continue
        for what, value in wanted:
            at = data.find(value)
            if at >= 0:
                print(f"{what} found at {lo + at:#x} in {name}")
                hits += 1
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
