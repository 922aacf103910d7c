#!/usr/bin/env bash
# A private single-node Slurm cluster (slurmctld + slurmd + munged, CPU only) under DIR, for tests.
#
#   .ci/slurm-cluster.sh start DIR   configure and start it; prints `export SLURM_CONF=DIR/slurm.conf`
#   .ci/slurm-cluster.sh stop DIR    cancel its jobs and stop its daemons (by the pids it recorded)
#
# Everything the cluster writes (state, spool, logs, munge key and socket, pid files) lives under DIR and
# its ports are picked free, so two runs never collide and nothing under /etc is touched (munged's socket
# lives in a fresh /tmp/xlt-munge-* directory, removed by stop). Needs root (all daemons run as root) and
# Debian's slurmctld, slurmd, slurm-client and munge. proctrack/linuxproc and task/none: cgroups are not
# available in containers. Accounting is off (no slurmdbd): job states come from squeue and scontrol.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

fail() { echo "$2" >&2; stop; exit "$1"; }  # a failed start leaves no daemon behind

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start() {
    for tool in munged slurmctld slurmd sinfo; do
        command -v "$tool" >/dev/null \
            || { echo "$tool not found (apt-get install slurmctld slurmd slurm-client munge)" >&2; exit 3; }
    done
    [ "$(id -u)" -eq 0 ] || { echo "starting slurmd needs root (running as $(id -un))" >&2; exit 3; }
    local host cpus memory ctld_port slurmd_port
    host=$(hostname -s)
    cpus=$(nproc)
    memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))  # half the machine, in MB
    ctld_port=$(free_port)
    slurmd_port=$(free_port)
    mkdir -p "$dir"/{state,spool,log,munge}
    chmod 700 "$dir/munge"
    # munged wants every directory above its socket searchable by all, which a test's tmp dir may not be
    socket_dir=$(mktemp -d /tmp/xlt-munge-XXXXXX)
    chmod 755 "$socket_dir"
    echo "$socket_dir" > "$dir/munge/socket-dir"
    [ -f "$dir/munge/munge.key" ] || mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null
    chmod 400 "$dir/munge/munge.key"
    local error
    error=$(munged --socket="$socket_dir/socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
        --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/seed" 2>&1) \
        || fail 4 "munged failed to start: $(echo "$error" | tail -1)"
    cat > "$dir/slurm.conf" <<CONF
ClusterName=xlt-test
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthInfo=socket=$socket_dir/socket
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
    for daemon in slurmctld slurmd; do
        "$daemon" -f "$SLURM_CONF" 2>/dev/null \
            || fail 4 "$daemon failed to start: $(tail -1 "$dir/log/$daemon.log" 2>/dev/null)"
    done
    for _ in $(seq 60); do
        [ "$(sinfo --noheader --format=%t 2>/dev/null)" = "idle" ] && { echo "export SLURM_CONF=$SLURM_CONF"; return; }
        sleep 0.5
    done
    fail 5 "the node never became idle in sinfo: $(sinfo --noheader 2>&1 | tail -1);"\
" $(tail -1 "$dir/log/slurmd.log" 2>/dev/null)"
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
    [ -f "$dir/munge/socket-dir" ] && rm -rf "$(cat "$dir/munge/socket-dir")"
    return 0
}

case $action in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
