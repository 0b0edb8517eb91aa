/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * oci-bundle: write an instance as an OCI runtime bundle for runc or crun.
 */
#include "cli.h"
#include "instance-cli.h"
#include "instance.h"
#include "oci.h"

#define OCI_USAGE                                                                                  \
        "oci-bundle NAME DIR [-- CMD ARG...]\n\n"                                                  \
        "Write instance NAME as an OCI runtime bundle in DIR (config.json and rootfs/),\n"         \
        "so that 'runc run' starts the same instance over the same image and state.\n"

int verb_oci_bundle(int argc, char **argv, GlobalOptions *g) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(instance_freep) Instance *inst = NULL;
        char **cmd = NULL;
        int i, r;

        /* A command after "--" is the bundle's process, not our options. */
        for (int k = 1; k < argc; k++)
                if (streq(argv[k], "--")) {
                        cmd = argv[k + 1] ? argv + k + 1 : NULL;
                        argv[k] = NULL;
                        argc = k;
                        break;
                }
        i = parse_verb(argc, argv, g, "oci-bundle", OCI_USAGE, NULL, NULL, NULL, NULL);
        if (i < 0)
                return verb_result(i);
        if (argc - i != 2)
                return cli_usage_error("oci-bundle", "expected NAME and DIR; usage: goldroot %s",
                                       OCI_USAGE);
        r = cli_open_instance(g, "oci-bundle", argv[i], STORE_SHARED, &s, &inst);
        if (r < 0)
                return r;
        r = instance_lock_stopped(inst, "oci-bundle");
        if (r < 0)
                return r;
        return oci_bundle_write(s, inst, argv[i + 1], cmd);
}
