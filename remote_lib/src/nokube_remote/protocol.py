# The protocol's plumbing every part uses: the modules imported on first use, the call's JSON
# (read and written on CPython's accelerator), Fail (a verb's error answer), need (a field the
# engine always sends) and the log on stderr.
import sys


# urllib.request (with http.client, email, ssl) costs ~35 ms to import: only `status` needs it, so it is
# imported there. Every verb is one short-lived process, so import time is paid on every call: the
# modules a `probe` or `status` may not need are loaded on first use (on a 2-core runner fanning out
# to 200 test hosts, each millisecond here is 0.1 s of the run). `json`, `re` and `shutil` are among
# them: together with the `enum`, `functools` and `collections` they pull in, they were a third of a
# probe's time; the call's own JSON goes through `loads` / `dumps` below instead.


class _OnFirstUse(object):
    """A module imported on first attribute access (then it replaces itself in this module)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        import importlib

        mod = importlib.import_module(self._name)
        globals()[self._name] = mod
        return getattr(mod, attr)


fcntl = _OnFirstUse("fcntl")
json = _OnFirstUse("json")
re = _OnFirstUse("re")
secrets = _OnFirstUse("secrets")
select = _OnFirstUse("select")
shutil = _OnFirstUse("shutil")
signal = _OnFirstUse("signal")
socket = _OnFirstUse("socket")
subprocess = _OnFirstUse("subprocess")

LIB_VERSION = 1


def log(*a):
    try:
        print("nokube_remote:", *a, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass  # the SSH session that called us is gone: carry on (and clean up) without a log


def _json_codec():
    """(loads, dumps with sort_keys) on CPython's `_json` accelerator alone, which the json module
    itself uses for both; the json module where there is no such accelerator (PyPy) or its calls
    differ. The answers are byte for byte json.dumps(obj, sort_keys=True)'s (tests/test_unit.py)."""
    try:
        import _json

        class _Decoding(object):  # the attributes json.decoder.JSONDecoder gives the scanner
            strict = True
            object_hook = None
            object_pairs_hook = None
            parse_float = float
            parse_int = int
            parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__
            memo = {}

        scan = _json.make_scanner(_Decoding())

        def unserializable(o):
            raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)

        # json.encoder.JSONEncoder.iterencode's one-shot encoder (sort_keys, no indent, the default separators)
        encode = _json.make_encoder({}, unserializable, _json.encode_basestring_ascii, None, ": ", ", ",
                                    True, False, True)
        if "".join(encode({"b": [1.5, None, True], "a": "\u00e9"}, 0)) != '{"a": "\\u00e9", "b": [1.5, null, true]}':
            raise ValueError("another _json")
    except (ImportError, AttributeError, TypeError, ValueError):
        return json.loads, lambda obj: json.dumps(obj, sort_keys=True)

    space = " \t\n\r"

    def loads(text):
        try:
            obj, end = scan(text, len(text) - len(text.lstrip(space)))
        except Exception:  # StopIteration, or the scanner's own error, which needs json.decoder loaded
            end = None
        if end is None or text[end:].strip(space):
            return json.loads(text)  # not JSON: the json module says where and why
        return obj

    def dumps(obj):
        return "".join(encode(obj, 0))

    return loads, dumps


loads, dumps = _json_codec()


class Fail(Exception):
    def __init__(self, error, hint=None, **extra):
        Exception.__init__(self, error)
        self.error = error
        self.hint = hint
        self.extra = extra


def need(inp, field, verb):
    """A value the engine sends with every such request. Its defaults are applied once, in nokube's
    config model: none is filled in here, so a request without it is answered with this error."""
    value = inp.get(field)
    if value is None:
        raise Fail("%s: the request has no %r, which nokube always sends" % (verb, field),
                   "the nokube that called this library sent an incomplete request: report it as a bug")
    return value
