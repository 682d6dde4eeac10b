"""Whether operations record the graph that ``backward()`` walks.

Inside ``with th.no_grad():`` (or a function decorated with it) results carry no parents and no derivative
closure: evaluation and optimizer updates cost no memory for a graph.
"""
import functools

_enabled = True


def is_grad_enabled():
    return _enabled


class _GradMode:
    mode = True

    def __enter__(self):
        global _enabled
        self._prev, _enabled = _enabled, self.mode

    def __exit__(self, *exc):
        global _enabled
        _enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Context manager and decorator: no graph is recorded inside."""
    mode = False


class enable_grad(_GradMode):
    """Context manager and decorator: record the graph again (inside a ``no_grad`` block)."""
    mode = True
