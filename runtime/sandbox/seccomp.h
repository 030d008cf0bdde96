/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Docker's default seccomp profile (moby/profiles seccomp/default.json, table in
 * seccomp_profile.c), compiled with libseccomp into a classic BPF program and loaded by every
 * sandboxed command before it drops its capabilities. The program for the default
 * capabilities is compiled when bale is built (seccomp_gen.c writes seccomp_bpf.h) and used
 * where it is what libseccomp would compile here (seccomp_default.c); otherwise, and for any
 * other capability set, libseccomp compiles it at run time.
 */
#ifndef BALE_SECCOMP_H
#define BALE_SECCOMP_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/filter.h>
#include <seccomp.h>

#include "bale.h"

#define CAPBIT(c) (UINT64_C (1) << (c))

enum rt_seccomp_action
{
  RT_SECCOMP_ALLOW = 0,
  RT_SECCOMP_ERRNO, /* fail with errno_ret */
};

/* One entry of the profile's "syscalls" list, with its conditions as Docker applies them. */
struct rt_seccomp_rule
{
  const char *const *names; /* NULL-terminated */
  enum rt_seccomp_action action;
  int errno_ret;
  int n_args; /* 0 or 1: the profile never compares more than one argument */
  struct
  {
    unsigned int index;
    enum scmp_compare op;
    uint64_t value, value_two; /* MASKED_EQ: mask, then datum */
  } arg;
  const char *inc_arches; /* comma-separated Go arch names, or NULL */
  const char *exc_arches;
  uint64_t inc_caps; /* every one of these must be in the bounding set */
  uint64_t exc_caps; /* none of these may be */
  struct
  {
    int major, minor;
  } min_kernel; /* 0.0: any */
};

extern const struct rt_seccomp_rule rt_seccomp_profile[];
extern const unsigned long rt_seccomp_profile_len;
/* The profile's defaultErrnoRet (EPERM). */
#define RT_SECCOMP_DEFAULT_ERRNO 1

/* Docker's default capability set (CapBnd/CapPrm/CapEff 00000000a80425fb). */
extern const uint64_t rt_default_caps;

/*
 * The profile's rules that apply to a process with bounding set caps on this machine (its
 * architecture, its kernel), compiled into *out (free out->filter). Names libseccomp does not
 * know are skipped, as runc does.
 */
int rt_seccomp_compile (uint64_t caps, struct sock_fprog *out, bale_error_t *err);

/* The same for a kernel of version major.minor instead of the running one (the build-time
   generator compiles for the newest kernel the profile's rules name). */
int rt_seccomp_compile_for_kernel (uint64_t caps, int major, int minor, struct sock_fprog *out,
                                   bale_error_t *err);

/* Whether the running kernel is major.minor or newer. */
bool rt_seccomp_kernel_at_least (int major, int minor);

/* The newest kernel version a rule of the profile names (its minKernel): on that kernel or a
   newer one every such rule applies. */
void rt_seccomp_profile_kernel (int *major, int *minor);

/* The program compiled with bale for rt_default_caps, when it is what rt_seccomp_compile
   gives on this machine (the same architecture and libseccomp release, a kernel at least as
   new as the profile's newest minKernel): true and *out set, else false and *why says what
   differs. */
bool rt_seccomp_embedded (const struct sock_fprog **out, const char **why);

/* The program for rt_default_caps: the embedded one where it applies, else compiled on the
   first call and kept for the process (and its forks): a build compiles it at most once. */
int rt_seccomp_default (const struct sock_fprog **out, bale_error_t *err);

/* Install prog on the calling thread without no_new_privs (setuid binaries keep working, as
   under Docker): needs CAP_SYS_ADMIN. 0 or -1 with errno. */
int rt_seccomp_load (const struct sock_fprog *prog);

#endif
