/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * netdev: an instance's network. The loopback device comes up with one ioctl
 * inside the instance; bridge mode's veth pair, address and default route are
 * made by iproute2's `ip -batch`, so goldroot never speaks netlink itself.
 */
#pragma once

#include "runner.h"

/* Checks names and addresses before anything is created; logs what is wrong
 * and returns -EINVAL. */
int netdev_validate(const RunnerNet *net);

/* Brings lo up in the caller's network namespace. */
int netdev_loopback_up(void);

/* Bridge mode, called by the parent while the instance waits: creates the veth
 * pair with its instance end named eth0 inside the instance's namespace,
 * attaches the host end to the bridge, and gives eth0 its address and default
 * route from inside (joined through pidfd). Everything it created goes away
 * with the instance's network namespace. */
int netdev_bridge_setup(int pidfd, pid_t pid, const RunnerNet *net);
