"""Forks real Celery workers from one process that has imported everything once.

A worker started with `celery worker` spends ~3 s of CPU importing before it is ready;
forked from here it is ready in a fraction of that, so a test can SIGKILL and restart
workers dozens of times. Each child is a whole worker process of its own (own process
group, Redis and database connections), exactly as `celery -A config worker ARGV` runs; it dies with the zygote.

Protocol: one JSON line per worker on stdin, {"argv": [...], "log": path, "settings":
{name: value}} (settings overridden in that worker only); the answer is its pid.
"""

import ctypes
import json
import os
import signal
import sys

import django

PR_SET_PDEATHSIG = 1


def main() -> None:
    django.setup()
    from config.celery import app

    app.loader.import_default_modules()
    # What `celery worker` imports before it is ready (most of a second of CPU otherwise).
    import celery.apps.worker, celery.bin.celery, celery.concurrency.thread, celery.worker.worker  # noqa: E401,F401
    import kombu.transport.redis  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps killed workers
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            run_worker(app, request)
        os.setpgid(pid, pid)  # its own process group before anyone can kill it (the child does too)
        print(pid, flush=True)


def run_worker(app, request: dict) -> None:
    code = 1
    try:
        os.setpgid(0, 0)
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # no worker outlives the zygote (or pytest)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        from django.conf import settings

        for name, value in request.get("settings", {}).items():
            setattr(settings, name, value)
        app.worker_main(request["argv"])
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0
    finally:
        os._exit(code)


if __name__ == "__main__":
    main()
