import { randomUUID } from 'node:crypto';
import { type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_TYPE_BY_STATUS } from './api-error.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/** Node's own choice of status for a request its HTTP parser refuses; anything else is a 400. */
const STATUS_BY_CODE: Record<string, { status: number; title: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, title: 'Request line and headers are larger than the server accepts' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, title: 'Chunk extensions are larger than the server accepts' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, title: 'The request was not received in time' },
};

/**
 * A request Node's HTTP parser refuses (malformed, headers over its limit, too slow) never reaches Express, and
 * Node answers it with an empty body. This answers it with the error body instead, as Node would otherwise:
 * only on a connection that is still writable and not in the middle of another answer, then closing it.
 */
export function answerUnparsableRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (error.code === 'ECONNRESET' || !socket.writable || answering) {
      socket.destroy();
      return;
    }
    const { status, title } = STATUS_BY_CODE[error.code ?? ''] ?? { status: 400, title: 'Malformed HTTP request' };
    const requestId = randomUUID();
    const body = JSON.stringify({ type: ERROR_TYPE_BY_STATUS[status], title, status, request_id: requestId });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `${REQUEST_ID_HEADER}: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}
