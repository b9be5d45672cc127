import assert from 'node:assert/strict';
import { it } from 'node:test';
import { signedHeaders } from '../../../activities/location/s3.ts';

// The worked example of AWS's Signature Version 4 documentation for S3 ("GET Object"): the same inputs must
// give the same signature, or no real S3 service would accept Cairn's requests.
it('signs the AWS documentation example GET Object request to the published signature', () => {
  const headers = signedHeaders(
    'GET',
    'examplebucket.s3.amazonaws.com',
    '/test.txt',
    '',
    { Range: 'bytes=0-9' },
    Buffer.alloc(0),
    'us-east-1',
    { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    new Date('2013-05-24T00:00:00Z'),
  );
  assert.equal(
    headers.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  );
  assert.ok(!JSON.stringify(headers).includes('wJalrXUtnFEMI'), 'the secret key is never sent');
});
