#!/bin/busybox sh
# /init of the throwaway busybox guest of dist_test.ts: glibc and busybox only, no Deno.
# Copies nothing from the network; the NIC comes up only after `tempus --version`.
# Output: "TEMPUS-VM-KV key=value" and "TEMPUS-VM-OUT name|line" on the serial console.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/null >/dev/console 2>&1
export PATH=/usr/local/bin:/bin:/sbin HOME=/root TZ=UTC
. /params # SERVER, PLANT_SECONDS, DISCIPLINE_SECONDS
kv() { echo "TEMPUS-VM-KV $1=$2"; }
block() {
  name=$1
  shift
  "$@" 2>&1 | while IFS= read -r line; do echo "TEMPUS-VM-OUT $name|$line"; done
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
since() { echo "$(uptime_s) $1" | awk '{printf "%.2f", $1 - $2}'; }
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover \
  net_failover virtio_net; do insmod "/lib/modules/$m.ko"; done
ip link set lo up
kv has_deno "$(command -v deno || echo none)"
kv network "$(ip -4 addr show | grep -c 'inet .* eth')"

t0=$(uptime_s)
kv version "$(tempus --version 2>&1)"
kv first_run_s "$(since "$t0")"
t0=$(uptime_s)
tempus --version >/dev/null 2>&1
kv second_run_s "$(since "$t0")"

ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2

# tempus sync: a clock 1 h behind.
date -s "@$(($(date +%s) - 3600))" >/dev/null
block sync_before tempus query "$SERVER" --json
t0=$(uptime_s)
block sync tempus sync "$SERVER" --json
kv sync_s "$(since "$t0")"
block sync_after tempus query "$SERVER" --json

# tempus daemon: a clock PLANT_SECONDS ahead and 500 ppm fast.
mkdir -p /etc/tempus /var/lib/tempus /var/run
cat >/etc/tempus/tempus.conf <<EOF
server ${SERVER%:*} port ${SERVER##*:} iburst minpoll 0 maxpoll 2
driftfile /var/lib/tempus/drift
makestep 1.0 3
EOF
adjtimex -t 10005 >/dev/null
date -s "@$(($(date +%s) + PLANT_SECONDS))" >/dev/null
tempus daemon -d -f /etc/tempus/tempus.conf >/tmp/daemon.log 2>&1 &
daemon=$!
sleep "$DISCIPLINE_SECONDS"
block after tempus query "$SERVER" --json
block tracking tempus tracking
block adjtimex adjtimex
kill "$daemon"
wait "$daemon"
kv daemon_rc "$?"
block daemon_log cat /tmp/daemon.log
echo "TEMPUS-VM-DONE"
poweroff -f
