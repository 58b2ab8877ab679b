"""What the analysis knows about the C library without seeing its source.

Every table here is a fact about a standard (C11 / POSIX) function. Functions outside these tables
and outside the translation unit are *unknown*: a pointer passed to them may be kept, so ownership
is assumed to leave (the analysis prefers silence to a false alarm), unless the prototype says the
parameter points to ``const`` (a function cannot release what it may not write).
"""

from __future__ import annotations

MEMORY = "memory"
"""Resource kind of heap blocks (released with ``free``)."""
FILE = "file"
"""Resource kind of ``FILE*`` streams (released with ``fclose``)."""
PIPE = "pipe"
"""Resource kind of ``popen`` streams (released with ``pclose``)."""
DESCRIPTOR = "fd"
"""Resource kind of file descriptors (released with ``close``)."""

ALLOCATORS: dict[str, str] = {
    **{name: MEMORY for name in (
        "malloc", "calloc", "realloc", "strdup", "strndup", "aligned_alloc", "reallocarray",
        "valloc", "pvalloc", "memalign", "wcsdup", "__strdup", "__strndup")},
    **{name: FILE for name in ("fopen", "fdopen", "tmpfile", "fmemopen", "open_memstream",
                               "fopen64", "tmpfile64")},
    "popen": PIPE,
    **{name: DESCRIPTOR for name in (
        "open", "open64", "openat", "creat", "socket", "accept", "accept4", "dup",
        "epoll_create", "epoll_create1", "eventfd", "timerfd_create", "inotify_init",
        "inotify_init1", "memfd_create", "signalfd")},
}
"""Functions returning a fresh resource the caller owns, with its kind."""

RELEASES: dict[str, str] = {"free": MEMORY, "fclose": FILE, "pclose": PIPE, "close": DESCRIPTOR}
"""Functions that release the resource passed as their first argument."""

RELEASE_OF: dict[str, str] = {kind: name for name, kind in RELEASES.items()}
"""The call that releases each resource kind."""

CONSUMES_FIRST: frozenset[str] = frozenset({"realloc", "reallocarray", "fdopen"})
"""Allocators that take over the resource passed as their first argument."""

REALLOCATORS: frozenset[str] = frozenset({"realloc", "reallocarray"})
"""Allocators that return NULL and leave the old block alone when they fail."""

NORETURN: frozenset[str] = frozenset(
    {"exit", "_exit", "_Exit", "abort", "quick_exit", "longjmp", "siglongjmp", "pthread_exit",
     "__assert_fail", "err", "errx", "verr", "verrx", "__builtin_unreachable", "__builtin_trap"}
)
"""Calls that end the path: the process (or thread) is gone, so nothing leaks after them."""

BORROWERS: frozenset[str] = frozenset(
    {
        # <string.h>, <stdlib.h> conversions, <ctype.h>
        "memset", "memcpy", "memmove", "memcmp", "memchr", "memrchr", "memmem", "strlen",
        "strnlen", "strcpy", "strncpy", "stpcpy", "stpncpy", "strlcpy", "strlcat", "strcat",
        "strncat", "strcmp", "strncmp", "strcasecmp", "strncasecmp", "strcoll", "strxfrm",
        "strchr", "strrchr", "strchrnul", "strstr", "strcasestr", "strspn", "strcspn", "strpbrk",
        "strtok", "strtok_r", "strsep", "strtol", "strtoul", "strtoll", "strtoull", "strtod",
        "strtof", "strtold", "strtoimax", "strtoumax", "atoi", "atol", "atoll", "atof", "bzero",
        "explicit_bzero", "wcslen", "wcscpy", "wcsncpy", "wcscat", "wcsncat", "wcscmp",
        "wcsncmp", "wcschr", "wcsrchr", "wcsstr", "wmemset", "wmemcpy", "wmemmove", "wmemcmp",
        "toupper", "tolower", "qsort", "bsearch", "mblen", "mbstowcs", "wcstombs", "mbtowc",
        "wctomb", "strerror_r", "setenv",
        # <stdio.h>: formatted and stream I/O reads or writes through the pointers only
        "printf", "fprintf", "sprintf", "snprintf", "vprintf", "vfprintf", "vsprintf",
        "vsnprintf", "dprintf", "vdprintf", "wprintf", "fwprintf", "swprintf", "puts", "fputs",
        "fputc", "putc", "putchar", "fwrite", "fread", "fgets", "fgetc", "getc", "ungetc",
        "fgetws", "fputws", "fscanf", "sscanf", "scanf", "vfscanf", "vsscanf", "fflush",
        "fseek", "fseeko", "ftell", "ftello", "rewind", "fgetpos", "fsetpos", "feof", "ferror",
        "clearerr", "fileno", "setvbuf", "setbuf", "perror", "getline", "getdelim", "flockfile",
        "funlockfile", "rename", "remove", "unlink", "stat", "lstat", "access", "mkdir",
        "rmdir", "chdir", "chmod",
        # <unistd.h>, sockets and descriptors: the descriptor or buffer is only used
        "read", "write", "pread", "pwrite", "readv", "writev", "lseek", "fstat", "fsync",
        "fdatasync", "ftruncate", "fchmod", "fchown", "fcntl", "ioctl", "flock", "send",
        "recv", "sendto", "recvfrom", "sendmsg", "recvmsg", "connect", "bind", "listen",
        "shutdown", "getsockopt", "setsockopt", "getsockname", "getpeername", "isatty",
        "fstatfs", "posix_fadvise", "posix_fallocate", "mmap", "munmap", "msync", "madvise",
        "inet_pton", "inet_ntop", "poll", "select",
        # misc
        "time", "gettimeofday", "clock_gettime", "localtime_r", "gmtime_r", "strftime",
        "memfrob", "assert", "__builtin_memcpy", "__builtin_memset", "__builtin_strlen",
        "__builtin_memcmp", "__builtin_strcmp", "__builtin_strcpy", "__builtin_expect",
        "__builtin_object_size", "__builtin_prefetch",
    }
)
"""Library functions that read or write through a pointer (or use a descriptor) but never keep
or release it."""
