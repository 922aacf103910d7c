#!/usr/bin/env bash
# A private single-node Slurm cluster (slurmctld + slurmd + munged, CPU only) under DIR, for tests.
#
#   .ci/slurm-cluster.sh start DIR   configure and start it; prints `export SLURM_CONF=DIR/slurm.conf`
#   .ci/slurm-cluster.sh stop DIR    cancel its jobs and stop its daemons (by the pids it recorded)
#
# Everything the cluster writes (state, spool, logs, munge key and socket, pid files) lives under DIR and
# its ports are picked free, so two runs never collide and nothing under /etc is touched. Needs root and
# Debian's slurmctld, slurmd, slurm-client and munge. proctrack/linuxproc and task/none: cgroups are not
# available in containers. Accounting is off (no slurmdbd): job states come from squeue and scontrol.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start() {
    for tool in munged slurmctld slurmd sinfo; do
        command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install slurmctld slurmd slurm-client munge)" >&2; exit 3; }
    done
    [ "$(id -u)" -eq 0 ] || { echo "starting slurmd needs root (running as $(id -un))" >&2; exit 3; }
    local host cpus memory ctld_port slurmd_port
    host=$(hostname -s)
    cpus=$(nproc)
    memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))  # half the machine, in MB
    ctld_port=$(free_port)
    slurmd_port=$(free_port)
    mkdir -p "$dir"/{state,spool,log,munge,munge-socket}
    chmod 700 "$dir/munge"
    chmod 755 "$dir/munge-socket"  # munged wants its socket's directory searchable by all
    [ -f "$dir/munge/munge.key" ] || mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null
    chmod 400 "$dir/munge/munge.key"
    chown -R munge:munge "$dir/munge" "$dir/munge-socket"
    runuser -u munge -- munged --socket="$dir/munge-socket/socket" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/seed" \
        || { echo "munged failed to start: $(tail -1 "$dir/munge/munged.log" 2>/dev/null)" >&2; exit 4; }
    cat > "$dir/slurm.conf" <<CONF
ClusterName=xlt-test
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthInfo=socket=$dir/munge-socket/socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1
ReturnToService=2
MinJobAge=3600
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$dir/slurm.conf"
    slurmctld -f "$SLURM_CONF" || { echo "slurmctld failed: $(tail -1 "$dir/log/slurmctld.log" 2>/dev/null)" >&2; exit 4; }
    slurmd -f "$SLURM_CONF" || { echo "slurmd failed: $(tail -1 "$dir/log/slurmd.log" 2>/dev/null)" >&2; exit 4; }
    for _ in $(seq 60); do
        [ "$(sinfo --noheader --format=%t 2>/dev/null)" = "idle" ] && { echo "export SLURM_CONF=$SLURM_CONF"; return; }
        sleep 0.5
    done
    echo "the node never became idle in sinfo: $(sinfo --noheader 2>&1 | tail -1); $(tail -1 "$dir/log/slurmd.log" 2>/dev/null)" >&2
    exit 5
}

stop() {
    export SLURM_CONF="$dir/slurm.conf"
    [ -f "$SLURM_CONF" ] && scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
    for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
}

case $action in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
