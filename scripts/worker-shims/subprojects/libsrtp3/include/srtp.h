/*
 * relais: libsrtp 3.x API on top of Debian's libsrtp 2.5.
 *
 * mediasoup 3.19 calls the libsrtp 3 API (separate in/out buffers, size_t lengths,
 * srtp_stream_remove). Debian 12 ships libsrtp 2.5, whose functions work in place with
 * int lengths. The mapping below only moves bytes and converts lengths: all crypto is
 * libsrtp2's own.
 */
#ifndef RELAIS_SRTP3_COMPAT_H
#define RELAIS_SRTP3_COMPAT_H

#include <srtp2/srtp.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)

#ifndef SRTP_MAX_TRAILER_LEN
#error "libsrtp2 headers must define SRTP_MAX_TRAILER_LEN"
#endif

static inline srtp_err_status_t relais_srtp_copy_in(
  const uint8_t* in, size_t in_len, uint8_t* out, size_t out_cap, size_t needed_extra)
{
	if (in_len > (size_t)INT_MAX || out_cap < in_len + needed_extra)
		return srtp_err_status_buffer_small;
	if (in != out)
		memmove(out, in, in_len);
	return srtp_err_status_ok;
}

static inline srtp_err_status_t relais_srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtp_len, uint8_t* srtp, size_t* srtp_len, size_t mki_index)
{
	srtp_err_status_t err;
	int len;
	if (mki_index != 0)
		return srtp_err_status_bad_param;
	err = relais_srtp_copy_in(rtp, rtp_len, srtp, *srtp_len, SRTP_MAX_TRAILER_LEN);
	if (err != srtp_err_status_ok)
		return err;
	len = (int)rtp_len;
	err = srtp_protect(ctx, srtp, &len);
	if (err == srtp_err_status_ok)
		*srtp_len = (size_t)len;
	return err;
}

static inline srtp_err_status_t relais_srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtp_len, uint8_t* rtp, size_t* rtp_len)
{
	srtp_err_status_t err;
	int len;
	err = relais_srtp_copy_in(srtp, srtp_len, rtp, *rtp_len, 0);
	if (err != srtp_err_status_ok)
		return err;
	len = (int)srtp_len;
	err = srtp_unprotect(ctx, rtp, &len);
	if (err == srtp_err_status_ok)
		*rtp_len = (size_t)len;
	return err;
}

static inline srtp_err_status_t relais_srtp_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcp_len, uint8_t* srtcp, size_t* srtcp_len, size_t mki_index)
{
	srtp_err_status_t err;
	int len;
	if (mki_index != 0)
		return srtp_err_status_bad_param;
	/* SRTCP adds the 4-byte E flag + index word on top of the auth tag. */
	err = relais_srtp_copy_in(rtcp, rtcp_len, srtcp, *srtcp_len, SRTP_MAX_TRAILER_LEN + 4);
	if (err != srtp_err_status_ok)
		return err;
	len = (int)rtcp_len;
	err = srtp_protect_rtcp(ctx, srtcp, &len);
	if (err == srtp_err_status_ok)
		*srtcp_len = (size_t)len;
	return err;
}

static inline srtp_err_status_t relais_srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcp_len, uint8_t* rtcp, size_t* rtcp_len)
{
	srtp_err_status_t err;
	int len;
	err = relais_srtp_copy_in(srtcp, srtcp_len, rtcp, *rtcp_len, 0);
	if (err != srtp_err_status_ok)
		return err;
	len = (int)srtcp_len;
	err = srtp_unprotect_rtcp(ctx, rtcp, &len);
	if (err == srtp_err_status_ok)
		*rtcp_len = (size_t)len;
	return err;
}

#define srtp_protect relais_srtp_protect
#define srtp_unprotect relais_srtp_unprotect
#define srtp_protect_rtcp relais_srtp_protect_rtcp
#define srtp_unprotect_rtcp relais_srtp_unprotect_rtcp
#define srtp_stream_remove srtp_remove_stream

#endif
