/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parser benchmark: generate a 100,000-line Dockerfile (every instruction, continuations,
 * heredocs, comments, JSON forms) and time bale_parse over it. Prints the best of several
 * runs, in milliseconds and MiB/s.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bale.h"
#include "common/strbuf.h"

#define TARGET_LINES 100000

static const char *const blocks[] = {
  "FROM debian:bookworm AS build7\n",
  "# install the toolchain\nRUN apt-get update \\\n    && apt-get install -y --no-install-recommends \\\n       build-essential curl ca-certificates \\\n    && rm -rf /var/lib/apt/lists/*\n",
  "ENV PATH=/opt/bin:$PATH LANG=C.UTF-8 APP_HOME=\"/srv/app 7\"\n",
  "COPY --chown=1000:1000 --chmod=0644 src/ include/ /src/\n",
  "RUN --mount=type=cache,target=/root/.cache --network=none make -C /src -j4 target7\n",
  "RUN <<EOF\nset -e\necho building 7\ncd /src && ./configure --prefix=/usr\nEOF\n",
  "COPY <<config.ini /etc/app/\n[main]\nid=7\nEOF\nconfig.ini\n",
  "LABEL org.opencontainers.image.title=\"app\" version=\"7\" \\\n      description=\"a long label\"\n",
  "ARG VERSION=7\nWORKDIR /srv/app\nUSER 1000:1000\nEXPOSE 8080/tcp 9090/udp\n",
  "HEALTHCHECK --interval=30s --timeout=3s CMD curl -f http://localhost:8080/ || exit 1\n",
  "ENTRYPOINT [\"/usr/bin/app\", \"--config\", \"/etc/app/config.ini\"]\nCMD [\"serve\", \"--port\", \"7\"]\n",
  "VOLUME [\"/data\"]\nSTOPSIGNAL SIGTERM\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nONBUILD COPY . /src\n",
};

static size_t
count_lines (const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
  struct strbuf sb = STRBUF_INIT;
  int runs = argc > 1 ? atoi (argv[1]) : 10, i, k = 0;
  double best = 1e9;
  size_t nodes = 0, lines;

  for (lines = 0; lines < TARGET_LINES;)
    {
      const char *b = blocks[k++ % (sizeof blocks / sizeof blocks[0])];
      strbuf_addstr (&sb, b);
      lines += count_lines (b);
    }
  for (i = 0; i < runs; i++)
    {
      struct bale_dockerfile *df = NULL;
      bale_error_t err = NULL;
      double t0 = now (), dt;

      if (bale_parse ("bench.Dockerfile", sb.buf, sb.len, &df, &err) < 0)
        {
          char *msg = bale_error_format (err);
          fprintf (stderr, "bench: parse failed: %s\n", msg);
          return 1;
        }
      dt = now () - t0;
      best = dt < best ? dt : best;
      nodes = df->n_nodes;
      bale_dockerfile_free (df);
    }
  printf ("parse: %zu lines, %zu bytes, %zu instructions: best of %d runs %.1f ms, %.0f MiB/s, %.0f klines/s\n",
          lines, sb.len, nodes, runs, best * 1e3, (double) sb.len / best / (1 << 20),
          (double) lines / best / 1e3);
  strbuf_release (&sb);
  return 0;
}
