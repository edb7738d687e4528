"""nokube remote library: run on a Ray node as `<python> nokube_remote.py <verb>`.

One JSON object on stdin, one JSON object on stdout, logs on stderr. Python 3.8+, standard library
only. Verbs: probe, start, status, stop, drain, install, lock, unlock, run, ray_env, job, logs.
See remote_lib/PROTOCOL.md. The sources are the modules of remote_lib/src/nokube_remote/, joined in
the order of scripts/join-remote-lib.mjs into the one file that is uploaded (`npm run bundle`).
"""
