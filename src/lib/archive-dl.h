/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * archive-dl: libarchive, loaded with dlopen() by the code that reads or
 * writes tarballs (archive.c, store-oci.c, store-oci-layers.c) rather than
 * linked into every goldroot command. Call dlopen_libarchive() first; then
 * use sym_NAME for libarchive's NAME.
 */
#pragma once

#include <archive.h>
#include <archive_entry.h>

int dlopen_libarchive(void);

extern typeof(archive_entry_clear) *sym_archive_entry_clear;
extern typeof(archive_entry_copy_hardlink) *sym_archive_entry_copy_hardlink;
extern typeof(archive_entry_copy_pathname) *sym_archive_entry_copy_pathname;
extern typeof(archive_entry_copy_symlink) *sym_archive_entry_copy_symlink;
extern typeof(archive_entry_filetype) *sym_archive_entry_filetype;
extern typeof(archive_entry_free) *sym_archive_entry_free;
extern typeof(archive_entry_gid) *sym_archive_entry_gid;
extern typeof(archive_entry_hardlink) *sym_archive_entry_hardlink;
extern typeof(archive_entry_mtime) *sym_archive_entry_mtime;
extern typeof(archive_entry_mtime_is_set) *sym_archive_entry_mtime_is_set;
extern typeof(archive_entry_mtime_nsec) *sym_archive_entry_mtime_nsec;
extern typeof(archive_entry_new) *sym_archive_entry_new;
extern typeof(archive_entry_pathname) *sym_archive_entry_pathname;
extern typeof(archive_entry_perm) *sym_archive_entry_perm;
extern typeof(archive_entry_rdevmajor) *sym_archive_entry_rdevmajor;
extern typeof(archive_entry_rdevminor) *sym_archive_entry_rdevminor;
extern typeof(archive_entry_set_filetype) *sym_archive_entry_set_filetype;
extern typeof(archive_entry_set_gid) *sym_archive_entry_set_gid;
extern typeof(archive_entry_set_mtime) *sym_archive_entry_set_mtime;
extern typeof(archive_entry_set_perm) *sym_archive_entry_set_perm;
extern typeof(archive_entry_set_rdevmajor) *sym_archive_entry_set_rdevmajor;
extern typeof(archive_entry_set_rdevminor) *sym_archive_entry_set_rdevminor;
extern typeof(archive_entry_set_size) *sym_archive_entry_set_size;
extern typeof(archive_entry_set_uid) *sym_archive_entry_set_uid;
extern typeof(archive_entry_size) *sym_archive_entry_size;
extern typeof(archive_entry_symlink) *sym_archive_entry_symlink;
extern typeof(archive_entry_uid) *sym_archive_entry_uid;
extern typeof(archive_entry_xattr_add_entry) *sym_archive_entry_xattr_add_entry;
extern typeof(archive_entry_xattr_next) *sym_archive_entry_xattr_next;
extern typeof(archive_entry_xattr_reset) *sym_archive_entry_xattr_reset;
extern typeof(archive_errno) *sym_archive_errno;
extern typeof(archive_error_string) *sym_archive_error_string;
extern typeof(archive_free) *sym_archive_free;
extern typeof(archive_read_close) *sym_archive_read_close;
extern typeof(archive_read_data) *sym_archive_read_data;
extern typeof(archive_read_data_block) *sym_archive_read_data_block;
extern typeof(archive_read_data_into_fd) *sym_archive_read_data_into_fd;
extern typeof(archive_read_free) *sym_archive_read_free;
extern typeof(archive_read_open_fd) *sym_archive_read_open_fd;
extern typeof(archive_read_new) *sym_archive_read_new;
extern typeof(archive_read_next_header) *sym_archive_read_next_header;
extern typeof(archive_read_open) *sym_archive_read_open;
extern typeof(archive_read_support_filter_all) *sym_archive_read_support_filter_all;
extern typeof(archive_read_support_format_gnutar) *sym_archive_read_support_format_gnutar;
extern typeof(archive_read_support_format_raw) *sym_archive_read_support_format_raw;
extern typeof(archive_read_support_format_tar) *sym_archive_read_support_format_tar;
extern typeof(archive_set_error) *sym_archive_set_error;
extern typeof(archive_write_add_filter_bzip2) *sym_archive_write_add_filter_bzip2;
extern typeof(archive_write_add_filter_gzip) *sym_archive_write_add_filter_gzip;
extern typeof(archive_write_add_filter_none) *sym_archive_write_add_filter_none;
extern typeof(archive_write_add_filter_xz) *sym_archive_write_add_filter_xz;
extern typeof(archive_write_add_filter_zstd) *sym_archive_write_add_filter_zstd;
extern typeof(archive_write_close) *sym_archive_write_close;
extern typeof(archive_write_data) *sym_archive_write_data;
extern typeof(archive_write_header) *sym_archive_write_header;
extern typeof(archive_write_new) *sym_archive_write_new;
extern typeof(archive_write_open_fd) *sym_archive_write_open_fd;
extern typeof(archive_write_set_format_pax) *sym_archive_write_set_format_pax;
