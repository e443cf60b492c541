#!/usr/bin/env python3
"""Writes matplotlib's real DEM sample (jacksboro_fault_dem.npz: 3-arc-second
elevations around the Jacksboro fault, Tennessee, 344 x 403 cells, integer metres) as
an ESRI ASCII grid in lon/lat, with the standard library only (no numpy).

Usage: jacksboro_asc.py NPZ OUT.asc   (.ci/test fetches the npz from PyPI's matplotlib
wheel; the flood test resamples it onto a 90 m UTM grid)."""
import ast
import struct
import sys
import zipfile


def load(z, name):
    b = z.read(name + ".npy")
    assert b[:6] == b"\x93NUMPY", name
    n = struct.unpack("<H", b[8:10])[0]
    header = ast.literal_eval(b[10:10 + n].decode("latin1"))
    data = b[10 + n:]
    if header["shape"] == ():
        return struct.unpack("<d", data[:8])[0]
    rows, cols = header["shape"]
    assert header["descr"] == "<i2" and not header["fortran_order"], header
    values = struct.unpack("<%dh" % (rows * cols), data[:2 * rows * cols])
    return rows, cols, values


def main(npz, out):
    z = zipfile.ZipFile(npz)
    rows, cols, values = load(z, "elevation")
    dx, xmin = load(z, "dx"), load(z, "xmin")
    # matplotlib's sample stores the northern edge as "ymin" (row 0 is north)
    north = max(load(z, "ymin"), load(z, "ymax"))
    with open(out, "w") as f:
        f.write("ncols %d\nnrows %d\nxllcorner %r\nyllcorner %r\ncellsize %r\n"
                % (cols, rows, xmin, north - rows * dx, dx))
        for r in range(rows):
            f.write(" ".join(str(v) for v in values[r * cols:(r + 1) * cols]) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
