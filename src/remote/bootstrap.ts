// The two short Python programs nokube runs on a node before remote_lib itself: one checks the storage
// path and makes its `lib/` before the library is uploaded, one runs the library only from bytes whose
// hash was checked. Both are given as `python -c` with their words in argv (never in a shell line).

/**
 * `<python> -c LOAD_CHECKED <file> <sha256> <verb>`: reads the library, checks its SHA-256 (exit 97,
 * "not uploaded", when it is missing or differs: it is uploaded again, never run), then runs exactly
 * those bytes. Compiling the 88 KB file costs about 20 ms of the node's CPU (40 % of a `probe`), so the
 * compiled code is kept in `lib/__pycache__/` as a checked hash-based .pyc (PEP 552: it carries the hash
 * of the source it was made from). That hash is no seal (anyone can compute it), so the cache is trusted
 * only where nobody but the login user can have written it: a regular file owned by the login user,
 * not writable by group or others, in a `__pycache__` and `lib/` of the login user's that nobody else
 * may write, every directory above owned by root or the login user and not writable by others (unless
 * sticky), no symlink on the way. Anything else is compiled again from the checked bytes (and the cache
 * rewritten when the directory is ours). Python's own loader is not used: it trusts any .pyc whose
 * header matches the source's mtime and size, whoever wrote it.
 */
export const LOAD_CHECKED = String.raw`import sys, os, marshal, _imp
import _frozen_importlib_external as fx
f, want = sys.argv[1], sys.argv[2]
try:
    fd = os.open(f, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as r:
        src = r.read()
except OSError:
    sys.exit(97)
try:
    from _sha256 import sha256
except ImportError:
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256
if sha256(src).hexdigest() != want:
    sys.exit(97)
u = os.getuid()
lib = os.path.dirname(f)
cache = os.path.join(lib, "__pycache__")
tag = sys.implementation.cache_tag
pyc = os.path.join(cache, os.path.basename(f)[:-3] + "." + tag + ".pyc") if tag else None
def ours(p, kind):
    st = os.lstat(p)
    if st.st_mode & 0o170000 != kind or st.st_uid != u:
        return False
    if st.st_mode & 0o077 and kind == 0o040000:
        os.chmod(p, 0o700)
    return True
def trusted():
    if not pyc or not ours(lib, 0o040000):
        return False
    q = os.path.dirname(lib)
    while True:
        st = os.lstat(q)
        if st.st_mode & 0o170000 != 0o040000 or st.st_uid not in (0, u):
            return False
        if st.st_mode & 0o022 and not st.st_mode & 0o1000:
            return False
        if q == "/":
            break
        q = os.path.dirname(q)
    try:
        return ours(cache, 0o040000)
    except FileNotFoundError:
        os.mkdir(cache, 0o700)
        return True
try:
    use = trusted()
except OSError:
    use = False
head = fx.MAGIC_NUMBER + b"\x03\x00\x00\x00" + _imp.source_hash(fx._RAW_MAGIC_NUMBER, src)
code = None
if use:
    try:
        fd = os.open(pyc, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as r:
            st = os.fstat(r.fileno())
            data = r.read()
        if st.st_mode & 0o170000 == 0o100000 and st.st_uid == u and not st.st_mode & 0o022 and data[:16] == head:
            code = marshal.loads(memoryview(data)[16:])
    except (OSError, ValueError, EOFError, TypeError):
        code = None
if code is None:
    code = compile(src, f, "exec", dont_inherit=True)
    if use:
        tmp = "%s.%d.tmp" % (pyc, os.getpid())
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as w:
                w.write(head + marshal.dumps(code))
            os.replace(tmp, pyc)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
m = type(sys)("nokube_remote")
m.__file__ = f
exec(code, m.__dict__)
sys.exit(m.main(sys.argv[3:]))
`;

/**
 * `<python> -c PREPARE_STORAGE <storage>`: before anything is written under the storage path, refuses
 * it when it is unsafe (as OpenSSH's StrictModes: the path and every parent owned by root or the login
 * user, none writable by others unless sticky, no symlink but root's; not a directory shared by every
 * user, not the home itself), then makes `<storage>/lib` (new directories 0700). Exit 3 with the
 * reason on stdout when refused. remote_lib's `storage_safety` applies the same rule to later verbs.
 */
export const PREPARE_STORAGE = String.raw`import sys, os, pwd
s = os.path.normpath(sys.argv[1])
u = os.getuid()
def name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
def no(why):
    sys.stdout.write("storage path %s: %s" % (s, why))
    sys.exit(3)
if not os.path.isabs(s):
    no("not an absolute path")
if s in ("/", "/tmp", "/var/tmp", "/dev/shm"):
    no("shared by every user of the machine")
if s == os.path.normpath(os.path.expanduser("~")):
    no("the login user's home directory (its files would be mixed with the cluster's)")
def check(p):
    while True:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            st = None
        if st is not None:
            if st.st_mode & 0o170000 == 0o120000:
                if st.st_uid != 0:
                    no("%s is a symlink of %s (give the real path)" % (p, name(st.st_uid)))
                check(os.path.realpath(p))
            else:
                if st.st_uid not in (0, u):
                    no("%s belongs to %s, not %s or root" % (p, name(st.st_uid), name(u)))
                if st.st_mode & 0o022 and not (p != s and st.st_mode & 0o1000):
                    no("%s is writable by other users (mode %o)" % (p, st.st_mode & 0o7777))
        if p == "/":
            return
        p = os.path.dirname(p)
check(s)
missing, p = [os.path.join(s, "lib")], s
while not os.path.lexists(p):
    missing.append(p)
    p = os.path.dirname(p)
for d in reversed(missing):
    try:
        os.mkdir(d, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        no("cannot create %s as %s: %s" % (d, name(u), e.strerror))
`;
