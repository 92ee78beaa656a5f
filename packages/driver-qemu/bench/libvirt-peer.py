#!/usr/bin/env python3
# The libvirt side of qemu.bench.mjs: the same operations on the same
# domain through libvirt's API (python3-libvirt, one connection), timed
# in-process. Prints one JSON object of per-run milliseconds.
#   libvirt-peer.py URI XML_TEMPLATE_FILE RUNS SAVE_DIR CONCURRENT
import json
import os
import sys
import threading
import time

import libvirt

uri, template_file, runs, save_dir, concurrent = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
template = open(template_file).read()
libvirt.registerErrorHandler(lambda *_: None, None)
conn = libvirt.open(uri)


def ms(fn):
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def xml(name):
    return template.replace('@NAME@', name)


out = {"start": [], "destroy": [], "suspend": [], "resume": [], "saveRestore": [], "concurrent20": []}
made = []
try:
    dom = conn.defineXML(xml('vkb-lv'))
    made.append(dom)
    dom.create()
    dom.destroy()  # warm-up (capabilities, caches)
    for _ in range(runs):
        out["start"].append(ms(dom.create))
        out["suspend"].append(ms(dom.suspend))
        out["resume"].append(ms(dom.resume))
        path = os.path.join(save_dir, 'lv.save')
        out["saveRestore"].append(ms(lambda: (dom.save(path), conn.restore(path))))
        os.unlink(path)
        out["destroy"].append(ms(dom.destroy))
    doms = []
    for i in range(concurrent):
        d = conn.defineXML(xml('vkb-lv%d' % i))
        made.append(d)
        doms.append(d)
    for _ in range(max(1, runs // 4)):
        threads = [threading.Thread(target=d.create) for d in doms]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        out["concurrent20"].append((time.perf_counter() - t) * 1000)
        for d in doms:
            d.destroy()
finally:
    for d in made:
        try:
            if d.isActive():
                d.destroy()
        except libvirt.libvirtError:
            pass
        try:
            d.undefine()
        except libvirt.libvirtError:
            pass
    conn.close()
print(json.dumps(out))
