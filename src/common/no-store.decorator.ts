import { applyDecorators, Header } from '@nestjs/common';

/**
 * For answers that carry a secret (a token, a new session cookie): no cache, the browser's or a proxy's, may
 * keep them (`Pragma` for HTTP/1.0 caches).
 */
export const NoStore = () => applyDecorators(Header('Cache-Control', 'no-store'), Header('Pragma', 'no-cache'));
