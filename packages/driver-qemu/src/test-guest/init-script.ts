/** What the guest prints once it is ready for commands on ttyS0. */
export const TEST_GUEST_READY = 'VIRTKIT-GUEST-READY';
/** The shell prompt on ttyS0. */
export const TEST_GUEST_PROMPT = 'virtkit# ';

/**
 * /init of the test guest (busybox ash as PID 1). It never exits: PID 1
 * exiting panics the kernel.
 */
export function initScript(modules: readonly string[]): string {
  return `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
hostname virtkit-guest

for m in ${modules.map((m) => `/lib/modules/${m}`).join(' ')}; do
  insmod "$m" 2>/dev/null
done

# ACPI power button (system_powerdown): the button driver reports it as a key
# press on an input device named "Power Button"; one event is enough. The
# input device and its node (devtmpfs creates it asynchronously) are waited
# for here, before the prompt, so a press right after the prompt is never lost.
i=0
while [ $i -lt 50 ]; do
  found=
  for d in /sys/class/input/event*; do
    [ "$(cat "$d/device/name" 2>/dev/null)" = "Power Button" ] || continue
    n="/dev/input/\${d##*/}"
    j=0; while [ ! -e "$n" ] && [ $j -lt 50 ]; do sleep 0.02; j=$((j+1)); done
    found=1
    ( dd if="$n" of=/dev/null bs=24 count=1 2>/dev/null && { echo "power button pressed, powering off"; sync; poweroff -f; } ) &
  done
  [ -n "$found" ] && break
  sleep 0.05; i=$((i+1))
done

# No udev: online hot-plugged CPUs and memory blocks as they appear.
( while :; do
    for f in /sys/devices/system/cpu/cpu*/online /sys/devices/system/memory/memory*/online; do
      [ -e "$f" ] || continue
      { read v < "$f" && [ "$v" = 0 ] && echo 1 > "$f"; } 2>/dev/null
    done
    sleep 0.3
  done ) &

export PS1='${TEST_GUEST_PROMPT}' HOME=/ TERM=dumb
echo ${TEST_GUEST_READY}
while :; do
  setsid sh -c 'exec sh -i </dev/ttyS0 >/dev/ttyS0 2>&1'
done
`;
}
