"""Replays an NMEA log into a real gpsd through a pty, one line group per second.

gpsd is started on the pty as its controlling terminal and opens it as /dev/tty: gpsd
classifies /dev/pts/* (what gpsfake gives it) as a test-harness pty and never writes its NTP
outputs for it, while /dev/tty (major 5) counts as a serial port. Usage:
    nmea_replay.py LOG START_EPOCH CONTROL_SOCKET PORT
LOG holds one line group per second, groups separated by an empty line; group k is written
at the wall-clock second START_EPOCH + k. Stops (and stops gpsd) at the end of the log or on
SIGTERM.
"""
import os
import pty
import select
import signal
import sys
import time

log, start, control, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
groups = [g for g in open(log).read().split("\n\n") if g.strip()]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("gpsd", ["gpsd", "-N", "-n", "-b", "-F", control, "-S", port, "/dev/tty"])
print("gpsd", pid, flush=True)
stop = False


def on_term(_sig, _frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
try:
    for k, group in enumerate(groups):
        if stop:
            break
        delay = start + k - time.time()
        if delay < -0.5:
            continue
        if delay > 0:
            time.sleep(delay)
        os.write(fd, ("\r\n".join(group.strip().split("\n")) + "\r\n").encode())
        while select.select([fd], [], [], 0)[0]:
            os.read(fd, 4096)
finally:
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
