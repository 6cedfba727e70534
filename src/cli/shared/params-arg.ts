import { readFile } from "node:fs/promises";
import { BadRequestError } from "../../errors.ts";

/** Params read from stdin or a file beyond this are refused rather than buffered without end. */
const MAX_PARAMS_INPUT_BYTES = 16 * 1024 * 1024;

function parse(text: string, from: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`--params${from ? ` ${from}` : ""} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_PARAMS_INPUT_BYTES) throw new BadRequestError(`--params - is larger than ${MAX_PARAMS_INPUT_BYTES / 1024 / 1024} MiB`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The value of a `--params` option: inline JSON, `@file` (JSON read from that file) or `-`
 * (JSON read from stdin). Shared by every command that takes tool params.
 */
export async function readParamsArg(value: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<unknown> {
  if (value === "-") {
    const text = await readStream(stdin);
    if (text.trim().length === 0) throw new BadRequestError("--params - read nothing from stdin: pipe the params JSON in, e.g. `echo '{\"command\":\"ls\"}' | clawgate … --params -`");
    return parse(text, "from stdin");
  }
  if (value.startsWith("@")) {
    const path = value.slice(1);
    if (path.length === 0) throw new BadRequestError("--params @FILE needs a file name after @");
    let text: string;
    try {
      const buf = await readFile(path);
      if (buf.length > MAX_PARAMS_INPUT_BYTES) throw new BadRequestError(`--params ${value}: the file is larger than ${MAX_PARAMS_INPUT_BYTES / 1024 / 1024} MiB`);
      text = buf.toString("utf8");
    } catch (err) {
      if (err instanceof BadRequestError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new BadRequestError(code === "ENOENT" ? `--params ${value}: no such file` : `--params ${value}: cannot read the file (${(err as Error).message})`);
    }
    return parse(text, `in ${path}`);
  }
  return parse(value, "");
}
