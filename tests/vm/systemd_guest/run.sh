#!/bin/sh
# Runs inside the systemd guest (tempus-harness.service, as root): installs dist/tempus and
# the units the way dist/README.md says, then reports what systemd and the kernel show.
# Output lines: "TEMPUS-VM-KV key=value" and "TEMPUS-VM-OUT name|line" (multi-line output).
# /run/harness holds: tempus, tempus.service, tempus-wait-sync.service, busybox, params.
H=/run/harness
. "$H/params" # SERVER (host:port of the host's NTP server), PLANT_SECONDS
kv() { echo "TEMPUS-VM-KV $1=$2"; }
block() {
  name=$1
  shift
  "$@" 2>&1 | while IFS= read -r line; do echo "TEMPUS-VM-OUT $name|$line"; done
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
bb() { "$H/busybox" "$@"; }
kv harness_start "$(uptime_s)"
kv systemd_pid1 "$(cat /proc/1/comm)"

# Network (systemd-networkd, 10.0.2.15/24 via qemu's user network; the host is 10.0.2.2).
i=0
until ip -4 addr show | grep -q 10.0.2.15 || [ $i -ge 50 ]; do sleep 0.2; i=$((i + 1)); done

# --- dist/README.md, step 1: install the binary (first run unpacks the runtime)
install -m 0755 "$H/tempus" /usr/local/bin/tempus
kv has_deno "$(command -v deno || echo none)"
t0=$(uptime_s)
version=$(tempus --version 2>&1)
t1=$(uptime_s)
tempus --version >/dev/null 2>&1
t2=$(uptime_s)
kv version "$version"
kv first_run_s "$(echo "$t1 $t0" | awk '{printf "%.2f", $1 - $2}')"
kv second_run_s "$(echo "$t2 $t1" | awk '{printf "%.2f", $1 - $2}')"
kv cache_dir "$(tempus --unpack)"

# step 2: the service user
useradd --system --no-create-home --home-dir /var/lib/tempus --shell /usr/sbin/nologin tempus
kv useradd "$?"

# step 3: configuration (the host's server instead of the pool)
install -d /etc/tempus
cat >/etc/tempus/tempus.conf <<EOF
server ${SERVER%:*} port ${SERVER##*:} iburst minpoll 0 maxpoll 2
driftfile /var/lib/tempus/drift
makestep 1.0 3
rtcsync
logdir /var/log/tempus
log tracking
EOF
tempus config check /etc/tempus/tempus.conf >/run/config_check.txt 2>&1
kv config_check_rc "$?"
block config_check cat /run/config_check.txt

# One-shot boot sync (root, no service yet): the clock 1 h behind, stepped onto the server.
date -s "@$(($(date +%s) - 3600))" >/dev/null
block sync_before tempus query "$SERVER" --json
t0=$(uptime_s)
block sync tempus sync "$SERVER" --json
kv sync_s "$(echo "$(uptime_s) $t0" | awk '{printf "%.2f", $1 - $2}')"
block sync_after tempus query "$SERVER" --json

# The guest clock starts wrong: PLANT_SECONDS ahead and +500 ppm fast.
bb adjtimex -t 10005 >/dev/null
date -s "@$(($(date +%s) + PLANT_SECONDS))" >/dev/null
block before tempus query "$SERVER" --json

# step 4: enable the service (and the wait-for-sync unit ordering time-sync.target)
install -m 0644 "$H/tempus.service" /etc/systemd/system/tempus.service
install -m 0644 "$H/tempus-wait-sync.service" /etc/systemd/system/tempus-wait-sync.service
systemctl daemon-reload
kv time_sync_before "$(systemctl is-active time-sync.target)"
# One transaction, as dist/README.md says: returns once tempus is started (READY=1) and
# tempus-wait-sync has seen the clock synchronised.
t0=$(uptime_s)
systemctl enable --now tempus.service tempus-wait-sync.service >/dev/null 2>&1
kv enable_rc "$?"
t1=$(uptime_s)
kv enable_s "$(echo "$t1 $t0" | awk '{printf "%.2f", $1 - $2}')"
block status_started systemctl status --no-pager -l tempus.service
block show_started systemctl show tempus.service -p Type,ActiveState,SubState,MainPID,NRestarts,Result,ExecMainStartTimestampMonotonic,ActiveEnterTimestampMonotonic
pid=$(systemctl show tempus.service -p MainPID --value)
kv main_pid "$pid"
block proc_status grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "/proc/$pid/status"
kv main_user "$(stat -c %U "/proc/$pid")"
kv main_comm "$(cat "/proc/$pid/comm")"
block cmdline sh -c "tr '\\0' '\\n' < /proc/$pid/cmdline"
block show_wait systemctl show tempus-wait-sync.service -p ActiveState,Result,ExecMainStatus,ExecMainExitTimestampMonotonic
block show_target systemctl show time-sync.target -p ActiveState,ActiveEnterTimestampMonotonic
block tracking_at_sync tempus tracking

# Let it discipline the clock for a while, then measure against the server.
sleep "${DISCIPLINE_SECONDS:-40}"
block after tempus query "$SERVER" --json
block tracking tempus tracking
block adjtimex bb adjtimex

# reload: SIGHUP reopens the logs; the daemon keeps running.
systemctl reload tempus.service
kv reload_rc "$?"
sleep 1
kv pid_after_reload "$(systemctl show tempus.service -p MainPID --value)"
kv active_after_reload "$(systemctl is-active tempus.service)"

# stop: a clean exit.
systemctl stop tempus.service
kv stop_rc "$?"
block show_stopped systemctl show tempus.service -p ActiveState,Result,ExecMainStatus,ExecMainCode,NRestarts
kv drift_file "$(cat /var/lib/tempus/drift 2>/dev/null | tr ' ' _)"
kv drift_owner "$(stat -c %U /var/lib/tempus/drift 2>/dev/null)"
kv tracking_log_lines "$(wc -l </var/log/tempus/tracking.log 2>/dev/null || echo 0)"
block journal journalctl -u tempus.service -o json --no-pager --output-fields=PRIORITY,MESSAGE,_PID
block sigsys journalctl -k --no-pager -g 'audit.*(SECCOMP|seccomp)|sig=31'
kv harness_end "$(uptime_s)"
echo "TEMPUS-VM-DONE"
sync
echo o >/proc/sysrq-trigger
