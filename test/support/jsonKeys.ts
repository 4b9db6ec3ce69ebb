/** Keys written more than once in one object of a JSON text, at any depth (JSON.parse hides them). */
export function repeatedKeys(text: string): string[] {
  const repeated: string[] = [];
  const objects: Set<string>[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === '{') objects.push(new Set());
    else if (char === '}') objects.pop();
    else if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const key = JSON.parse(text.slice(i, end + 1)) as string;
      let next = end + 1;
      while (text[next] === ' ') next += 1;
      const current = objects[objects.length - 1];
      if (text[next] === ':' && current) {
        if (current.has(key)) repeated.push(key);
        current.add(key);
      }
      i = end;
    }
    i += 1;
  }
  return repeated;
}
