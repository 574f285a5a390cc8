// What the environment says about the terminal (read here, as all environment is read under config/).

/** Colour only on a TTY, never when NO_COLOR is set (https://no-color.org). */
export function colorWanted(stream: { isTTY?: boolean } = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}
