#!/usr/bin/env python3
"""Copies the shared libraries that the given binaries need and a machine
without Debian's -dev packages lacks (OpenCV, yaml-cpp, spdlog, fmt, libpng,
matio ... and the C++ runtime) into --out, for scripts/gpu/check.sh pack.

Left out: glibc's own libraries, and whatever the LibTorch directory
(--torch-lib) or the NVIDIA wheels beside it provide; the GPU machine's torch
installation provides those.

OpenCV's image and video modules link optional back-ends that the project
never calls (GDAL, GDCM, OpenEXR, GStreamer, FFmpeg, FireWire and camera
libraries, OpenGL, LAPACK): together ~290 MB, over the 64 MiB the device tool
carries.  The copies of the OpenCV libraries in the pack drop those from
their NEEDED lists (patchelf) and are switched to lazy binding, so a back-end
is looked up only if a call reaches it; the project's decoders (JPEG, PNG,
WebP, TIFF) and FFV1 video stay.  check.sh's --cpu dry run loads exactly the
packed set, so a symbol the trimming took away fails there, not on the GPU.
"""
import argparse
import os
import re
import shutil
import struct
import subprocess
import sys

# glibc and the dynamic loader: every Linux machine has its own.
BASE = re.compile(r"^(libc|libm|libdl|librt|libpthread|libresolv|libutil|ld-linux-x86-64|linux-vdso)\.so")
# Optional OpenCV back-ends dropped from the pack (see the module docstring).
TRIMMED = re.compile(
    r"^lib(gdal|gdcm\w*|OpenEXR\S*|Ilm\S*|Iex\S*|Imath\S*|gst\S*|gobject|glib|avcodec|avformat|avutil|swscale|"
    r"swresample|dc1394|gphoto2\S*|GLX|GL|OpenGL|lapack|blas|openblas\S*)\b")
DT_FLAGS, DF_BIND_NOW = 30, 0x8
DT_FLAGS_1, DF_1_NOW = 0x6FFFFFFB, 0x1


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


def lazy_binding(path):
    """Clears BIND_NOW (DT_FLAGS) and NOW (DT_FLAGS_1) in a 64-bit little-endian ELF, in place."""
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            sys.exit(f"pack_libs: {path} is not a 64-bit little-endian ELF")
        phoff, = struct.unpack_from("<Q", data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        for i in range(phnum):
            p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
            if p_type != 2:  # PT_DYNAMIC
                continue
            for at in range(p_offset, p_offset + p_filesz, 16):
                tag, value = struct.unpack_from("<qQ", data, at)
                if tag == DT_FLAGS:
                    struct.pack_into("<qQ", data, at, tag, value & ~DF_BIND_NOW)
                elif tag == DT_FLAGS_1:
                    struct.pack_into("<qQ", data, at, tag, value & ~DF_1_NOW)
                elif tag == 0:
                    break
        f.seek(0)
        f.write(data)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--torch-lib", required=True, help="LibTorch's lib/ directory the binaries linked against")
    p.add_argument("--out", required=True)
    p.add_argument("binaries", nargs="+")
    args = p.parse_args()
    if shutil.which("patchelf") is None:
        sys.exit("pack_libs: patchelf is missing (apt-get install patchelf)")
    system = system_libraries()
    provided = provided_names(args.torch_lib)
    os.makedirs(args.out, exist_ok=True)
    queue = [name for binary in args.binaries for name in needed(binary)]
    packed, trimmed = {}, set()
    while queue:
        name = queue.pop()
        if name in packed or BASE.match(name) or name in provided:
            continue
        if TRIMMED.match(name):
            trimmed.add(name)
            continue
        if name not in system:
            sys.exit(f"pack_libs: {name} is needed but not installed here")
        target = os.path.join(args.out, name)
        shutil.copy2(os.path.realpath(system[name]), target)
        os.chmod(target, 0o755)
        drop = [n for n in needed(target) if TRIMMED.match(n)]
        if drop:
            subprocess.run(["patchelf"] + [a for n in drop for a in ("--remove-needed", n)] + [target], check=True)
            lazy_binding(target)
            trimmed.update(drop)
        packed[name] = os.path.getsize(target)
        queue.extend(needed(target))
    subprocess.run(["strip", "--strip-unneeded"] + [os.path.join(args.out, n) for n in packed], check=True)
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in packed)
    print(f"pack_libs: {len(packed)} libraries, {total / 2**20:.1f} MiB before compression; "
          f"left out (optional back-ends): {', '.join(sorted(trimmed)) or 'none'}")


if __name__ == "__main__":
    main()
