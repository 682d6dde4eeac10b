"""Whether operations record the graph that ``backward()`` walks.

Inside ``with th.no_grad():`` (or a function decorated with it) results carry no parents and no derivative
closure: evaluation and optimizer updates cost no memory for a graph.

The mode belongs to the thread, as in PyTorch: ``no_grad()`` in one thread (a lab request, an evaluation running
beside training) leaves every other thread recording. A new thread starts with recording on.
"""
import functools
import threading


class _State(threading.local):
    enabled = True  # each thread sees its own copy, starting at True


_state = _State()


def is_grad_enabled():
    """Whether this thread records the graph."""
    return _state.enabled


class _GradMode:
    mode = True

    def __enter__(self):
        self._prev, _state.enabled = _state.enabled, self.mode

    def __exit__(self, *exc):
        _state.enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Context manager and decorator: no graph is recorded inside (in this thread)."""
    mode = False


class enable_grad(_GradMode):
    """Context manager and decorator: record the graph again (inside a ``no_grad`` block)."""
    mode = True
