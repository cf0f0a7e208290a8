// Turns sampled token ids into text as they come: bytes go through a streaming UTF-8 decoder
// (a character may span several byte tokens), following llama2.c's printing rules.
import type { NativeModel } from './addon';

export class TokenTextStream {
  private readonly decoder = new TextDecoder('utf-8');
  private afterBos: boolean;

  constructor(
    private readonly model: NativeModel,
    startsAfterBos: boolean,
  ) {
    this.afterBos = startsAfterBos;
  }

  push(token: number): string {
    let bytes = this.model.tokenBytes(token);
    // SentencePiece's dummy prefix: the first piece after BOS loses its leading space.
    if (this.afterBos && bytes.length > 0 && bytes[0] === 0x20) bytes = bytes.subarray(1);
    this.afterBos = false;
    // Like llama2.c's safe_printf: a lone control byte (other than whitespace) prints nothing.
    if (bytes.length === 1 && bytes[0] < 0x20 && ![0x09, 0x0a, 0x0d].includes(bytes[0])) return '';
    return this.decoder.decode(bytes, { stream: true });
  }

  flush(): string {
    return this.decoder.decode();
  }
}
