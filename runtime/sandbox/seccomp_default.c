/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The default seccomp program: the one compiled when bale was built (seccomp_bpf.h, written by
 * seccomp_gen.c) where it is what libseccomp compiles here, else compiled once per process.
 * Compiling it took 14-72 ms of every build with a RUN step (docs/perf.md, fifth round).
 */
#include <config.h>

#include <seccomp.h>

#include "common/error.h"
#include "runtime/sandbox/seccomp.h"
#include "runtime/sandbox/seccomp_bpf.h"
#include "common/banned.h"

bool
rt_seccomp_embedded (const struct sock_fprog **out, const char **why)
{
  static const struct sock_fprog prog = { RT_SECCOMP_BPF_LEN, (struct sock_filter *) rt_seccomp_bpf };
  const struct scmp_version *v = seccomp_version ();

  *out = NULL;
  if (RT_SECCOMP_BPF_LEN == 0)
    *why = "bale was cross-compiled: no program was compiled with it";
  else if (seccomp_arch_native () != RT_SECCOMP_BPF_ARCH)
    *why = "libseccomp's native architecture is not the one bale was built for";
  else if (v == NULL || v->major != RT_SECCOMP_BPF_LIBSECCOMP_MAJOR
           || v->minor != RT_SECCOMP_BPF_LIBSECCOMP_MINOR
           || v->micro != RT_SECCOMP_BPF_LIBSECCOMP_MICRO)
    *why = "libseccomp is not the release bale was built with";
  else if (!rt_seccomp_kernel_at_least (RT_SECCOMP_BPF_KERNEL_MAJOR, RT_SECCOMP_BPF_KERNEL_MINOR))
    *why = "the kernel is older than the profile's newest minKernel";
  else
    {
      *why = NULL;
      *out = &prog;
      return true;
    }
  return false;
}

int
rt_seccomp_default (const struct sock_fprog **out, bale_error_t *err)
{
  static struct sock_fprog compiled;
  const char *why;

  if (rt_seccomp_embedded (out, &why))
    return 0;
  if (compiled.filter == NULL && rt_seccomp_compile (rt_default_caps, &compiled, err) < 0)
    return -1;
  *out = &compiled;
  return 0;
}
