/* test_hls.c - the HLS ladder setting, media playlists as text, and the
 * codecs string of an H.264 stream. */
#include <string.h>

#include "hls.h"
#include "hls_ladder.h"
#include "m3u8.h"
#include "unit.h"

static void test_hls_ladder_parse(void)
{
	struct hls_ladder l;
	char why[160];

	CHECK_INT(hls_ladder_parse("640x360@800", &l, why, sizeof(why)), 0);
	CHECK(l.enabled);
	CHECK_INT(l.n, 1);
	CHECK_INT(l.rung[0].width, 640);
	CHECK_INT(l.rung[0].height, 360);
	CHECK_INT(l.rung[0].kbps, 800);
	CHECK_STR(l.rung[0].name, "360p");
	CHECK_INT(hls_ladder_parse("960x540@2000,480x270@400", &l, why, sizeof(why)), 0);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.rung[1].name, "270p");
	/* off: no HLS; empty: the 720p rendition alone */
	CHECK_INT(hls_ladder_parse("off", &l, why, sizeof(why)), 0);
	CHECK(!l.enabled);
	CHECK_INT(hls_ladder_parse("", &l, why, sizeof(why)), 0);
	CHECK(l.enabled);
	CHECK_INT(l.n, 0);
}

static void test_hls_ladder_refuses(void)
{
	static const char *const bad[] = {
		"640x360", "640x360@", "640x360@800,", ",640x360@800",
		"640x480@800",		/* not 16:9 */
		"1280x720@3000",	/* the MP4's own size */
		"1920x1080@5000",	/* above it */
		"642x361@800",		/* odd */
		"640x360@10",		/* too few kb/s */
		"640x360@800,640x360@500",	/* twice */
		"640x360@800,480x270@400,320x180@300,256x144@200,160x90@100",
		"640x360@8000000", "640x360@800 ", "-640x360@800",
	};
	struct hls_ladder l;
	char why[160];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		l.n = 9;
		CHECK_INT(hls_ladder_parse(bad[i], &l, why, sizeof(why)), -1);
		CHECK(why[0] != '\0');
		CHECK_INT(l.n, 0);
	}
}

static const char media[] =
	"#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n"
	"#EXT-X-PLAYLIST-TYPE:VOD\n"
	"#EXT-X-MAP:URI=\"360p.m4s\",BYTERANGE=\"850@0\"\n"
	"#EXTINF:4.000000,\n#EXT-X-BYTERANGE:400000@850\n360p.m4s\n"
	"#EXTINF:2.000000,\n#EXT-X-BYTERANGE:300000@400850\n360p.m4s\n"
	"#EXT-X-ENDLIST\n";

static void test_hls_media_rates(void)
{
	long long peak = -1, avg = -1;

	CHECK_INT(m3u8_media_rates(media, &peak, &avg), SC_OK);
	/* 300000 bytes in 2 s is the peak; 700000 bytes in 6 s on average */
	CHECK_INT(peak, 1200000);
	CHECK_INT(avg, 933333);
	CHECK_INT(m3u8_media_rates("#EXTM3U\n#EXT-X-ENDLIST\n", &peak, &avg),
		  SC_ERR_INVALID);
	/* a segment without its byte range, or without a duration */
	CHECK_INT(m3u8_media_rates("#EXTINF:4,\na.m4s\n", &peak, &avg),
		  SC_ERR_INVALID);
	CHECK_INT(m3u8_media_rates("#EXT-X-BYTERANGE:10@0\na.m4s\n", &peak, &avg),
		  SC_ERR_INVALID);
}

static void test_hls_replace_uri(void)
{
	struct buf out = BUF_INIT(1 << 16);
	const char *url = "https://s3.example/b/k/360p.m4s?X-Amz-Signature=ab&x=1";

	CHECK_INT(m3u8_replace_uri(media, "360p.m4s", url, &out), SC_OK);
	CHECK(out.data && !strstr(out.data, "\n360p.m4s\n"));
	CHECK(out.data && strstr(out.data, "#EXT-X-MAP:URI=\"https://s3.example/b/k/"
				 "360p.m4s?X-Amz-Signature=ab&x=1\",BYTERANGE=\"850@0\"\n"));
	CHECK(out.data && strstr(out.data, "#EXT-X-BYTERANGE:300000@400850\n"
				 "https://s3.example/b/k/360p.m4s?X-Amz-Signature=ab&x=1\n"
				 "#EXT-X-ENDLIST\n"));
	/* other names are left alone; a quote cannot go into URI="..." */
	buf_reset(&out);
	CHECK_INT(m3u8_replace_uri(media, "720p.m4s", url, &out), SC_OK);
	CHECK_STR(out.data, media);
	buf_reset(&out);
	CHECK_INT(m3u8_replace_uri(media, "360p.m4s", "a\"b", &out), SC_ERR_INVALID);
	buf_release(&out);
}

static void test_hls_avc_codecs(void)
{
	/* Annex B, as libx264 writes extradata: SPS High, level 3.1 */
	static const uint8_t annexb[] = { 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1f, 0xac,
					  0, 0, 0, 1, 0x68, 0xee, 0x3c, 0x80 };
	/* avcC: version 1, Baseline constrained, level 3.0 */
	static const uint8_t avcc[] = { 1, 0x42, 0xc0, 0x1e, 0xff, 0xe1 };
	static const uint8_t pps_only[] = { 0, 0, 1, 0x68, 0xee, 0x3c, 0x80, 0 };
	char s[32];

	CHECK_INT(hls_avc_codecs(annexb, sizeof(annexb), s, sizeof(s)), SC_OK);
	CHECK_STR(s, "avc1.64001f");
	CHECK_INT(hls_avc_codecs(avcc, sizeof(avcc), s, sizeof(s)), SC_OK);
	CHECK_STR(s, "avc1.42c01e");
	CHECK_INT(hls_avc_codecs(pps_only, sizeof(pps_only), s, sizeof(s)),
		  SC_ERR_INVALID);
	CHECK_INT(hls_avc_codecs(NULL, 0, s, sizeof(s)), SC_ERR_INVALID);
}

const struct unit_test test_hls_suite[] = {
	UNIT_TEST(test_hls_ladder_parse),
	UNIT_TEST(test_hls_ladder_refuses),
	UNIT_TEST(test_hls_media_rates),
	UNIT_TEST(test_hls_replace_uri),
	UNIT_TEST(test_hls_avc_codecs),
	{ NULL, NULL },
};
