# Smoke test for a fresh cluster: one task pinned to every alive node; each prints the node's
# hostname and a file of the job's working dir as that node sees it. Fails unless every node answers.
import socket
import sys

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

ray.init()


@ray.remote(num_cpus=0)
def where() -> str:
    with open("hostnames.py") as f:  # the working dir reached this node too
        f.readline()
    return socket.gethostname()


nodes = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
hosts = ray.get(
    [where.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n, soft=False)).remote() for n in nodes]
)
for node_id, host in zip(nodes, hosts):
    print(f"node {node_id[:12]} on {host}")
print(f"{len(hosts)} nodes answered: {','.join(sorted(hosts))}")
sys.exit(0 if len(hosts) == len(nodes) and nodes else 1)
