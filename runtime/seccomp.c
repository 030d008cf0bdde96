/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compile Docker's default seccomp profile with libseccomp, once, and load it in a sandbox. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/seccomp.h"
#include "common/banned.h"

/* The profile's archMap: the native architecture, its Go name (what "arches" conditions
   name) and the compatible ABIs whose binaries an image may hold. */
static const struct
{
  uint32_t arch;
  const char *go_name;
  uint32_t subs[2];
} arch_map[] = {
  { SCMP_ARCH_X86_64, "amd64", { SCMP_ARCH_X86, SCMP_ARCH_X32 } },
  { SCMP_ARCH_AARCH64, "arm64", { SCMP_ARCH_ARM, 0 } },
  { SCMP_ARCH_X86, "x86", { 0, 0 } },
  { SCMP_ARCH_ARM, "arm", { 0, 0 } },
  { SCMP_ARCH_PPC64LE, "ppc64le", { 0, 0 } },
  { SCMP_ARCH_S390X, "s390x", { SCMP_ARCH_S390, 0 } },
  { SCMP_ARCH_S390, "s390", { 0, 0 } },
  { SCMP_ARCH_RISCV64, "riscv64", { 0, 0 } },
};

static bool
in_list (const char *list, const char *name)
{
  size_t n = strlen (name);

  for (const char *p = list; p && *p;)
    {
      size_t len = strcspn (p, ",");
      if (len == n && strncmp (p, name, n) == 0)
        return true;
      p += len + (p[len] == ',');
    }
  return false;
}

static bool
kernel_at_least (int major, int minor)
{
  static int km = -1, kn = -1;

  if (km < 0)
    {
      struct utsname u;
      if (uname (&u) < 0 || sscanf (u.release, "%d.%d", &km, &kn) != 2)
        km = kn = 0;
    }
  return km > major || (km == major && kn >= minor);
}

/* Docker's setupSeccomp: excludes first (any listed cap present, or this arch), then
   includes (every listed cap present, this arch listed, the kernel new enough). */
static bool
rule_applies (const struct rt_seccomp_rule *r, uint64_t caps, const char *arch)
{
  if (r->exc_arches && in_list (r->exc_arches, arch))
    return false;
  if (r->exc_caps & caps)
    return false;
  if (r->inc_arches && !in_list (r->inc_arches, arch))
    return false;
  if ((r->inc_caps & caps) != r->inc_caps)
    return false;
  if (r->min_kernel.major && !kernel_at_least (r->min_kernel.major, r->min_kernel.minor))
    return false;
  return true;
}

static int
add_rules (scmp_filter_ctx ctx, uint64_t caps, const char *arch, bale_error_t *err)
{
  for (unsigned long i = 0; i < rt_seccomp_profile_len; i++)
    {
      const struct rt_seccomp_rule *r = &rt_seccomp_profile[i];
      uint32_t action = r->action == RT_SECCOMP_ALLOW ? SCMP_ACT_ALLOW
                                                      : SCMP_ACT_ERRNO ((uint32_t) r->errno_ret);

      if (!rule_applies (r, caps, arch))
        continue;
      for (const char *const *name = r->names; *name; name++)
        {
          int nr = seccomp_syscall_resolve_name (*name);
          int rc;

          /* A name this libseccomp does not know: runc skips it, and so do we (the call then
             gets the default action). */
          if (nr == __NR_SCMP_ERROR)
            continue;
          if (r->n_args)
            {
              struct scmp_arg_cmp cmp = { r->arg.index, r->arg.op, r->arg.value,
                                          r->arg.value_two };
              rc = seccomp_rule_add_array (ctx, action, nr, 1, &cmp);
            }
          else
            rc = seccomp_rule_add (ctx, action, nr, 0);
          /* EACCES: the rule's action is the default one; EEXIST: already there. */
          if (rc < 0 && rc != -EACCES && rc != -EEXIST)
            return bale_make_error (err, -rc, "seccomp: cannot add the rule for '%s'", *name);
        }
    }
  return 0;
}

/* The BPF program of ctx, read back from a memfd (libseccomp 2.5 can only write it to an fd). */
static int
export_program (scmp_filter_ctx ctx, struct sock_fprog *out, bale_error_t *err)
{
  cleanup_close int fd = memfd_create ("bale-seccomp", MFD_CLOEXEC);
  off_t size;
  int rc;

  if (fd < 0)
    return bale_make_error (err, errno, "seccomp: cannot create a memfd");
  if ((rc = seccomp_export_bpf (ctx, fd)) < 0)
    return bale_make_error (err, -rc, "seccomp: cannot export the filter");
  size = lseek (fd, 0, SEEK_END);
  if (size <= 0 || size % (off_t) sizeof (struct sock_filter) != 0
      || size / (off_t) sizeof (struct sock_filter) > BPF_MAXINSNS)
    return bale_make_error (err, 0, "seccomp: the exported filter has %lld bytes",
                            (long long) size);
  out->len = (unsigned short) (size / (off_t) sizeof (struct sock_filter));
  out->filter = xmalloc ((size_t) size);
  if (pread (fd, out->filter, (size_t) size, 0) != size)
    {
      free (steal_pointer (&out->filter));
      return bale_make_error (err, errno, "seccomp: cannot read the exported filter");
    }
  return 0;
}

int
rt_seccomp_compile (uint64_t caps, struct sock_fprog *out, bale_error_t *err)
{
  uint32_t native = seccomp_arch_native ();
  const char *arch = NULL;
  scmp_filter_ctx ctx;
  int ret = -1;

  memset (out, 0, sizeof *out);
  ctx = seccomp_init (SCMP_ACT_ERRNO (RT_SECCOMP_DEFAULT_ERRNO));
  if (ctx == NULL)
    return bale_make_error (err, ENOMEM, "seccomp: cannot create a filter");
  /* Docker and BuildKit leave no_new_privs off: setuid programs of the image work. */
  if (seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
    {
      bale_make_error (err, 0, "seccomp: cannot clear the no_new_privs attribute");
      goto out;
    }
  /* A binary tree of syscall numbers instead of a linear list (runc does the same above 32
     rules): the filter runs on every system call of the step. */
  (void) seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (size_t i = 0; i < sizeof arch_map / sizeof *arch_map; i++)
    if (arch_map[i].arch == native)
      {
        arch = arch_map[i].go_name;
        for (size_t j = 0; j < 2 && arch_map[i].subs[j]; j++)
          {
            int rc = seccomp_arch_add (ctx, arch_map[i].subs[j]);
            if (rc < 0 && rc != -EEXIST)
              {
                bale_make_error (err, -rc, "seccomp: cannot add a compatible architecture");
                goto out;
              }
          }
      }
  if (arch == NULL)
    {
      bale_make_error (err, 0, "seccomp: Docker's profile has no rules for this architecture "
                               "(libseccomp token %#x)", (unsigned) native);
      goto out;
    }
  if (add_rules (ctx, caps, arch, err) < 0 || export_program (ctx, out, err) < 0)
    goto out;
  ret = 0;
out:
  seccomp_release (ctx);
  return ret;
}

int
rt_seccomp_default (const struct sock_fprog **out, bale_error_t *err)
{
  static struct sock_fprog prog;

  if (prog.filter == NULL && rt_seccomp_compile (rt_default_caps, &prog, err) < 0)
    return -1;
  *out = &prog;
  return 0;
}

int
rt_seccomp_load (const struct sock_fprog *prog)
{
  return (int) syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog);
}
