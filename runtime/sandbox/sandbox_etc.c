/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host a step sees: its name and the /etc files the sandbox gives it, which differ between
   a Dockerfile's RUN step (BuildKit's) and bale run (docker run's). A leaf: the set-up files
   of both sides of the sandbox call it. */
#include <config.h>

#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

const char *
sandbox_hostname (const struct sandbox_spec *spec)
{
  if (spec->hostname)
    return spec->hostname;
  return spec->build_step ? "buildkitsandbox" : "bale";
}

size_t
rt_sbx_etc_files (const struct sandbox_spec *spec, const char *names[3])
{
  names[0] = "hosts";
  names[1] = "resolv.conf";
  names[2] = "hostname";
  return spec->build_step ? 2 : 3;
}
