#!/bin/bash
# Workload generators: the SAME work for drover/ansible-core (one playbook) and pyinfra (a deploy
# file). Each host works under its own /root (a private bind mount, see hosts.sh), so the paths are
# identical on every host yet never shared.
#
# W1, per host, 50 tasks:
#   10 x file state=directory   /root/w1/dNN
#   10 x copy content=...       /root/w1/dNN/copy.txt
#   10 x template               /root/w1/dNN/tmpl.txt   (bench/workloads/w1.j2, vars n and total)
#   10 x file touch + mode      /root/w1/dNN/touched    (timestamps preserved so a re-run is a no-op)
#   10 x command creates=       touch /root/w1/dNN/made  creates=/root/w1/dNN/made
# W2: 1 trivial task (file state=directory /root/w2).

# bench_write_w1_playbook DIR: writes DIR/w1.yml and DIR/w1.j2.
bench_write_w1_playbook() {
    local dir=$1 i d
    cp "$BENCH_SRC/workloads/w1.j2" "$dir/w1.j2"
    {
        echo "- name: W1"
        echo "  hosts: bench"
        echo "  gather_facts: false"
        echo "  tasks:"
        for i in $(seq -w 1 10); do
            echo "    - name: dir $i"
            echo "      file: path=/root/w1/d$i state=directory mode=0755"
        done
        for i in $(seq -w 1 10); do
            echo "    - name: copy $i"
            echo "      copy:"
            printf '        content: "content of file %s\\n"\n' "$i"
            echo "        dest: /root/w1/d$i/copy.txt"
            echo "        mode: '0644'"
        done
        for i in $(seq -w 1 10); do
            echo "    - name: template $i"
            echo "      template: src=w1.j2 dest=/root/w1/d$i/tmpl.txt mode=0644"
            echo "      vars: {n: $((10#$i)), total: 10}"
        done
        for i in $(seq -w 1 10); do
            echo "    - name: touch $i"
            echo "      file: path=/root/w1/d$i/touched state=touch mode=0600 modification_time=preserve access_time=preserve"
        done
        for i in $(seq -w 1 10); do
            d=/root/w1/d$i
            echo "    - name: command $i"
            echo "      command: touch $d/made creates=$d/made"
        done
    } >"$dir/w1.yml"
}

# bench_write_w1_pyinfra DIR: writes DIR/w1_deploy.py (pyinfra's idiom for the same 50 tasks).
bench_write_w1_pyinfra() {
    local dir=$1
    cp "$BENCH_SRC/workloads/w1.j2" "$dir/w1.j2"
    cp "$BENCH_SRC/workloads/w1_deploy.py" "$dir/w1_deploy.py"
}

# bench_write_pyinfra_inventory M FILE
bench_write_pyinfra_inventory() {
    local m=$1 file=$2 i
    {
        echo "bench = ("
        echo "    ["
        for i in $(seq 1 "$m"); do echo "        \"$(bench_host_ip "$i")\","; done
        echo "    ],"
        echo "    {"
        echo "        \"ssh_user\": \"root\","
        echo "        \"ssh_key\": \"$BENCH_RUN/id_ed25519\","
        echo "        \"ssh_strict_host_key_checking\": \"off\","
        echo "        \"ssh_known_hosts_file\": \"/dev/null\","
        echo "    },"
        echo ")"
    } >"$file"
}

# bench_write_w2_playbook DIR
bench_write_w2_playbook() {
    local dir=$1
    cat >"$dir/w2.yml" <<'YML'
- name: W2
  hosts: bench
  gather_facts: false
  tasks:
    - name: one trivial task
      file: path=/root/w2 state=directory mode=0755
YML
}
