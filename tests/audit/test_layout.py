"""Struct sizes as the real binary has them: GCC on an x86_64 Linux host, the
target's build configuration deciding ``#if``, host library types known."""

from __future__ import annotations

import pytest

from bot.audit.buildconfig import BuildConfig
from bot.audit.layout import StructLayouts
from bot.sources.gitrepo import GitRepo

from .qemutree import Repo

THREAD_H = """\
#ifndef QEMU_THREAD_H
#define QEMU_THREAD_H

#include "qemu/processor.h"

typedef struct QemuMutex QemuMutex;
typedef struct QemuCond QemuCond;

#ifdef _WIN32
#include "qemu/thread-win32.h"
#else
#include "qemu/thread-posix.h"
#endif

#endif
"""

THREAD_POSIX_H = """\
#ifndef QEMU_THREAD_POSIX_H
#define QEMU_THREAD_POSIX_H

#include <pthread.h>
#include <semaphore.h>

struct QemuMutex {
    pthread_mutex_t lock;
#ifdef CONFIG_DEBUG_MUTEX
    const char *file;
    int line;
#endif
    bool initialized;
};

struct QemuCond {
    pthread_cond_t cond;
    bool initialized;
};

#endif
"""

THREAD_WIN32_H = """\
#ifndef QEMU_THREAD_WIN32_H
#define QEMU_THREAD_WIN32_H

#include <windows.h>

struct QemuMutex {
    SRWLOCK lock;
    bool initialized;
};

struct QemuCond {
    CONDITION_VARIABLE var;
    bool initialized;
};

#endif
"""

INT128_H = """\
#ifndef INT128_H
#define INT128_H

#ifdef __cplusplus
extern "C" {
#endif

#ifdef CONFIG_INT128
typedef __int128_t Int128;
#else
typedef struct Int128 Int128;

struct Int128 {
#if HOST_BIG_ENDIAN
    int64_t hi;
    uint64_t lo;
#else
    uint64_t lo;
    int64_t hi;
#endif
};
#endif

#ifdef __cplusplus
}
#endif

#endif
"""

QUEUE_H = """\
#ifndef QEMU_SYS_QUEUE_H
#define QEMU_SYS_QUEUE_H

#define QLIST_HEAD(name, type)                                          \\
struct name {                                                           \\
        struct type *lh_first;  /* first element */                     \\
}

#define QLIST_ENTRY(type)                                               \\
struct {                                                                \\
        struct type *le_next;   /* next element */                      \\
        struct type **le_prev;  /* address of previous next element */  \\
}

typedef struct QTailQLink {
    void *tql_next;
    struct QTailQLink *tql_prev;
} QTailQLink;

#define QTAILQ_ENTRY(type)                                              \\
union {                                                                 \\
        struct type *tqe_next;        /* next element */                \\
        QTailQLink tqe_circ;          /* link for circular backwards list */ \\
}

#endif
"""

ACME_REGS_H = """\
#ifndef HW_ACME_REGS_H
#define HW_ACME_REGS_H

#define ACME_NUM_BANKS 4
#define ACME_BANK_WORDS (0x40 / 4)

enum {
    ACME_REGION_MMIO,
    ACME_REGION_PIO,
    ACME_REGION_ROM = 5,
    ACME_NUM_REGIONS,
};

#endif
"""

ACME_H = """\
#ifndef HW_ACME_H
#define HW_ACME_H

#include "qemu/thread.h"
#include "qemu/queue.h"
#include "qemu/int128.h"
#include "hw/misc/acme_regs.h"

typedef struct AcmeRequest AcmeRequest;

typedef struct AcmeRegion {
    uint64_t addr;
    Int128 size;
    uint8_t flags;
} AcmeRegion;

typedef struct AcmeLocked {
    QemuMutex lock;
    QemuCond cond;
    uint32_t pending;
} AcmeLocked;

typedef struct AcmeArrays {
    uint32_t banks[ACME_NUM_BANKS][ACME_BANK_WORDS];
    void *regions[ACME_NUM_REGIONS];
} AcmeArrays;

typedef struct AcmeKvmState {
    uint32_t ctl;
#ifdef CONFIG_KVM
    uint64_t kvm_shadow[2];
#endif
#if defined(TARGET_AARCH64) && !defined(CONFIG_USER_ONLY)
    uint32_t el2_ctl;
#endif
} AcmeKvmState;

typedef union AcmeIplBlock {
    struct {
        uint32_t len;
        uint8_t version;
        union {
            uint32_t ccw;
            uint64_t fcp;
        };
    } QEMU_PACKED;
    struct {
        uint8_t reserved[6];
        uint16_t devno;
        uint8_t reserved_ext[64 - 8];
    } QEMU_PACKED;
} QEMU_PACKED AcmeIplBlock;

typedef struct AcmeBits {
    uint32_t enabled:1;
    uint32_t mode:3;
    uint32_t :0;
    uint8_t level:4;
    uint8_t ack:4;
    uint16_t count;
} AcmeBits;

typedef struct AcmeLists {
    QLIST_HEAD(, AcmeRequest) requests;
    QLIST_ENTRY(AcmeLists) next;
    QTAILQ_ENTRY(AcmeLists) link;
} AcmeLists;

typedef struct AcmeAligned {
    uint8_t tag;
    uint8_t vec[16] QEMU_ALIGNED(16);
} AcmeAligned;

typedef struct AcmeOptions {
    OnOffAuto discard;
    uint8_t level;
} AcmeOptions;

#endif
"""

ACME_CPU_X86_H = """\
#ifndef ACME_CPU_H
#define ACME_CPU_H

typedef struct AcmeCPUState {
    uint64_t regs[16];
} AcmeCPUState;

#endif
"""

ACME_CPU_ARM_H = """\
#ifndef ACME_CPU_H
#define ACME_CPU_H

typedef struct AcmeCPUState {
    uint32_t regs[16];
} AcmeCPUState;

#endif
"""

COMMON_JSON = """\
##
# @OnOffAuto:
#
# An enumeration of three options: on, off, and auto
##
{ 'enum': 'OnOffAuto',
  'data': [ 'auto', 'on', 'off' ] }
"""


@pytest.fixture(scope="module")
def layouts_of(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StructLayouts]:
    root = tmp_path_factory.mktemp("layout")
    repo = Repo(root / "qemu", root / "home")
    repo.commit(
        {
            "include/qemu/thread.h": THREAD_H,
            "include/qemu/thread-posix.h": THREAD_POSIX_H,
            "include/qemu/thread-win32.h": THREAD_WIN32_H,
            "include/qemu/int128.h": INT128_H,
            "include/qemu/queue.h": QUEUE_H,
            "include/hw/misc/acme_regs.h": ACME_REGS_H,
            "include/hw/misc/acme.h": ACME_H,
            "target/i386/acme-cpu.h": ACME_CPU_X86_H,
            "target/arm/acme-cpu.h": ACME_CPU_ARM_H,
            "qapi/common.json": COMMON_JSON,
            "configs/targets/x86_64-softmmu.mak": "TARGET_ARCH=x86_64\nTARGET_BASE_ARCH=i386\n",
            "configs/targets/aarch64-softmmu.mak": "TARGET_ARCH=aarch64\nTARGET_BASE_ARCH=arm\n",
            "configs/targets/s390x-softmmu.mak": "TARGET_ARCH=s390x\nTARGET_BIG_ENDIAN=y\n",
        },
        "Acme device headers",
    )
    git = GitRepo(repo.path)
    tree = git.commit("HEAD").tree
    return {
        t: StructLayouts(git, tree, 64, target=t)
        for t in ("x86_64-softmmu", "aarch64-softmmu", "s390x-softmmu")
    }


def test_host_library_types_and_the_linux_header_of_two(
    layouts_of: dict[str, StructLayouts],
) -> None:
    x86 = layouts_of["x86_64-softmmu"]
    # pthread_mutex_t is 40 bytes in glibc on x86_64, + bool, padded to 8;
    # thread-win32.h is not built on Linux, CONFIG_DEBUG_MUTEX is off
    assert x86.sizeof("QemuMutex") == 48
    assert x86.sizeof("QemuCond") == 56  # pthread_cond_t: 48
    assert x86.sizeof("AcmeLocked") == 48 + 56 + 8


def test_int128_is_the_compilers_and_aligned_to_16(layouts_of: dict[str, StructLayouts]) -> None:
    x86 = layouts_of["x86_64-softmmu"]
    assert x86.sizeof("Int128") == 16
    # addr at 0, size at 16 (aligned to 16), flags at 32, padded to 48
    assert x86.sizeof("AcmeRegion") == 48


def test_members_under_if_as_the_targets_build_has_them(
    layouts_of: dict[str, StructLayouts],
) -> None:
    # x86_64: KVM on, not aarch64: 4, padded to 8, + 16
    assert layouts_of["x86_64-softmmu"].sizeof("AcmeKvmState") == 24
    # aarch64 on an x86_64 host: no KVM; the aarch64 member is there
    assert layouts_of["aarch64-softmmu"].sizeof("AcmeKvmState") == 8
    assert layouts_of["s390x-softmmu"].sizeof("AcmeKvmState") == 4
    assert layouts_of["x86_64-softmmu"].member_size("AcmeKvmState", "kvm_shadow") == 16
    assert layouts_of["s390x-softmmu"].member_size("AcmeKvmState", "kvm_shadow") is None


def test_only_the_targets_own_directory_is_built(layouts_of: dict[str, StructLayouts]) -> None:
    assert layouts_of["x86_64-softmmu"].sizeof("AcmeCPUState") == 128
    assert layouts_of["aarch64-softmmu"].sizeof("AcmeCPUState") == 64


def test_arrays_sized_by_defines_and_enumerators_of_other_headers(
    layouts_of: dict[str, StructLayouts],
) -> None:
    x86 = layouts_of["x86_64-softmmu"]
    # 4 * 16 words, and 6 pointers (ACME_NUM_REGIONS follows ACME_REGION_ROM = 5)
    assert x86.member_size("AcmeArrays", "banks") == 256
    assert x86.member_size("AcmeArrays", "banks[1]") == 64
    assert x86.member_size("AcmeArrays", "regions") == 48
    assert x86.sizeof("AcmeArrays") == 256 + 48


def test_anonymous_packed_structs_in_a_union(layouts_of: dict[str, StructLayouts]) -> None:
    x86 = layouts_of["x86_64-softmmu"]
    assert x86.sizeof("AcmeIplBlock") == 64  # the larger packed struct; the first is 4 + 1 + 8
    assert x86.member_size("AcmeIplBlock", "devno") == 2


def test_bitfields_packed_in_units_of_their_type(layouts_of: dict[str, StructLayouts]) -> None:
    # enabled and mode share a uint32_t, :0 closes it; level and ack share a byte,
    # count at 6; the struct aligned to the uint32_t
    assert layouts_of["x86_64-softmmu"].sizeof("AcmeBits") == 8


def test_types_written_as_macros_expand(layouts_of: dict[str, StructLayouts]) -> None:
    # a list head (1 pointer), a list entry (2) and a tail queue entry (a union of 1 and 2)
    assert layouts_of["x86_64-softmmu"].sizeof("AcmeLists") == 8 + 16 + 16


def test_aligned_members_and_qapi_enums(layouts_of: dict[str, StructLayouts]) -> None:
    x86 = layouts_of["x86_64-softmmu"]
    assert x86.sizeof("AcmeAligned") == 32  # vec at 16, the struct aligned to 16
    assert x86.sizeof("AcmeOptions") == 8  # OnOffAuto is generated from the schema: an int


def test_conditions_read_in_three_values() -> None:
    config = BuildConfig.for_target(
        "aarch64", "TARGET_ARCH=aarch64\nTARGET_BASE_ARCH=arm\n", ["ppc64-softmmu.mak"]
    )
    assert config.holds("defined(TARGET_ARM) && !defined(CONFIG_USER_ONLY)") is True
    assert config.holds("defined(TARGET_PPC64)") is False
    assert config.holds("defined(CONFIG_KVM)") is False
    assert config.holds("defined(CONFIG_SOMETHING_ELSE)") is None
    assert config.holds("defined(CONFIG_SOMETHING_ELSE) && defined(_WIN32)") is False
    assert config.holds("HOST_LONG_BITS == 64 || FOO") is True
    assert config.holds("TARGET_LONG_BITS == 64", {"TARGET_LONG_BITS": 64}.get) is True
