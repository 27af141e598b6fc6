#!/usr/bin/env python3
"""Copies the shared libraries that the given binaries need and a machine
without Debian's -dev packages lacks (OpenCV, yaml-cpp, spdlog, fmt, libpng,
matio ... and the C++ runtime) into --out, for scripts/gpu/check.sh pack.

Left out: glibc's own libraries, and whatever the LibTorch directory
(--torch-lib) or the NVIDIA wheels beside it provide; the GPU machine's torch
installation provides those.

OpenCV's image and video modules link optional back-ends that the project
never calls (GDAL, GDCM, GStreamer, FFmpeg, FireWire and camera
libraries, OpenGL, LAPACK): together ~290 MB, over the 64 MiB the device tool
carries.  The pack holds a stub library in place of each: the same soname, the
symbol versions the packed libraries require of it, and each symbol they take
from it (functions that return 0, data objects zero-filled at the real
size).  Image files keep their codecs (JPEG, PNG, WebP, TIFF, OpenEXR:
imwrite constructs every encoder, the EXR one calls OpenEXR); video
files do not (FFmpeg is a stub), and the GPU check reads none.  check.sh's
--cpu dry run loads exactly the packed set, so a symbol the stubs lack fails
there, not on the GPU.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# glibc and the dynamic loader: every Linux machine has its own.
BASE = re.compile(r"^(libc|libm|libdl|librt|libpthread|libresolv|libutil|ld-linux-x86-64|linux-vdso)\.so")
# Optional OpenCV back-ends dropped from the pack (see the module docstring).
TRIMMED = re.compile(
    r"^lib(gdal|gdcm\w*|gst\S*|gobject|glib|avcodec|avformat|avutil|swscale|"
    r"swresample|dc1394|gphoto2\S*|GLX|GL|OpenGL|lapack|blas|openblas\S*)\b")


def required_versions(path):
    """{soname: [version names]} that `path` requires (its .gnu.version_r)."""
    out = subprocess.run(["readelf", "-V", path], check=True, capture_output=True, text=True).stdout
    versions, current = {}, None
    for line in out.splitlines():
        file_match = re.search(r"File: (\S+)\s+Cnt:", line)
        if file_match:
            current = versions.setdefault(file_match.group(1), [])
            continue
        name_match = re.search(r"^\s+0x[0-9a-f]+:\s+Name: (\S+)", line)
        if name_match and current is not None:
            current.append(name_match.group(1))
    return versions


def dynamic_symbols(path, defined):
    """{name: (type letter, size, version)} of `path`'s defined or undefined dynamic symbols."""
    flags = ["-S", "--defined-only"] if defined else ["--undefined-only"]
    out = subprocess.run(["nm", "-D", "--with-symbol-versions"] + flags + [path], check=True, capture_output=True,
                         text=True).stdout
    symbols = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        name, kind = fields[-1], fields[-2]
        size = int(fields[1], 16) if defined and len(fields) == 4 else 0
        name, _, version = name.partition("@")
        symbols[name] = (kind, size, version.lstrip("@"))
    return symbols


def write_stub(out_dir, soname, versions, symbols, work):
    """A library named `soname` that defines `versions` and `symbols`
    ({name: (type, size, version)}): functions return 0 (OpenCV's GDAL
    decoder, built with every imwrite, calls GDALAllRegister; a null or zero
    answer is what an absent back-end gives), data objects are zero-filled
    with the real object's size."""
    nodes = {v: [] for v in versions}
    lines = []
    for name, (kind, size, version) in sorted(symbols.items()):
        quoted = f'"{name}"'
        if kind in "TtWwi":
            lines += [".text", f".globl {quoted}", f".type {quoted}, @function", f"{quoted}:", "xor %eax, %eax", "ret"]
        else:
            lines += [".data", ".balign 16", f".globl {quoted}", f".type {quoted}, @object",
                      f".size {quoted}, {max(size, 1)}", f"{quoted}:", f".zero {max(size, 1)}"]
        nodes.setdefault(version or next(iter(nodes), ""), []).append(name)
    source = os.path.join(work, soname + ".s")
    with open(source, "w") as f:
        f.write("\n".join(lines) + "\n")
    command = ["cc", "-shared", "-nostdlib", "-o", os.path.join(out_dir, soname), f"-Wl,-soname,{soname}", source]
    named = {v: names for v, names in nodes.items() if v}
    if named:  # an unversioned reference binds to a versioned definition too
        named.setdefault(next(iter(named)), []).extend(nodes.get("", []))
        script = os.path.join(work, soname + ".map")
        with open(script, "w") as f:
            for version, names in named.items():
                exported = "".join(f'"{n}"; ' for n in names)
                f.write(f"{version} {{ {'global: ' + exported if exported else ''}local: *; }};\n")
        command.append(f"-Wl,--version-script={script}")
    subprocess.run(command, check=True)


def needed(path):
    out = subprocess.run(["readelf", "-d", path], check=True, capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)


def system_libraries():
    """soname -> path, from the loader's cache (x86-64 entries)."""
    out = subprocess.run(["/sbin/ldconfig", "-p"], check=True, capture_output=True, text=True).stdout
    found = {}
    for name, arch, path in re.findall(r"^\s*(\S+) \((.*?)\) => (\S+)$", out, re.M):
        if "x86-64" in arch:
            found.setdefault(name, path)
    return found


def provided_names(torch_lib):
    """Sonames the GPU machine's torch installation brings (torch/lib and the nvidia wheels)."""
    names = set(os.listdir(torch_lib))
    nvidia = os.path.join(os.path.dirname(os.path.dirname(torch_lib)), "nvidia")
    for folder, _, files in os.walk(nvidia):
        names.update(f for f in files if ".so" in f)
    return names


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--torch-lib", required=True, help="LibTorch's lib/ directory the binaries linked against")
    p.add_argument("--out", required=True)
    p.add_argument("binaries", nargs="+")
    args = p.parse_args()
    system = system_libraries()
    provided = provided_names(args.torch_lib)
    os.makedirs(args.out, exist_ok=True)
    queue = [name for binary in args.binaries for name in needed(binary)]
    packed, stubs, stub_symbols = {}, {}, {}
    while queue:
        name = queue.pop()
        if name in packed or BASE.match(name) or name in provided:
            continue
        if TRIMMED.match(name):
            stubs.setdefault(name, [])
            continue
        if name not in system:
            sys.exit(f"pack_libs: {name} is needed but not installed here")
        target = os.path.join(args.out, name)
        shutil.copy2(os.path.realpath(system[name]), target)
        os.chmod(target, 0o755)
        stubbed = [n for n in needed(target) if TRIMMED.match(n)]
        if stubbed:
            for soname, versions in required_versions(target).items():
                if soname in stubbed:
                    stubs.setdefault(soname, []).extend(versions)
            # What `target` takes from each stubbed library, as the real one defines it.
            wanted = dynamic_symbols(target, defined=False)
            for soname in stubbed:
                real = dynamic_symbols(os.path.realpath(system[soname]), defined=True) if soname in system else {}
                chosen = stub_symbols.setdefault(soname, {})
                chosen.update({n: real[n] for n in wanted if n in real})
        packed[name] = os.path.getsize(target)
        queue.extend(needed(target))
    subprocess.run(["strip", "--strip-unneeded"] + [os.path.join(args.out, n) for n in packed], check=True)
    with tempfile.TemporaryDirectory() as work:
        for soname, versions in stubs.items():
            write_stub(args.out, soname, versions, stub_symbols.get(soname, {}), work)
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in packed)
    print(f"pack_libs: {len(packed)} libraries, {total / 2**20:.1f} MiB before compression; "
          f"stubs for the optional back-ends: {', '.join(sorted(stubs)) or 'none'}")


if __name__ == "__main__":
    main()
