import { Fragment } from 'react';

/** A light YAML highlighter (keys, comments, strings) with line numbers; no library, no inline script. */
export function YamlView({ text, highlight, label }: { text: string; highlight?: number | null; label: string }) {
  const lines = text.replace(/\n$/, '').split('\n');
  return (
    <pre className="code" aria-label={label} tabIndex={0}>
      {lines.map((line, i) => {
        const m = /^(\s*-?\s*)([^#'"\s][^:#]*?)(:)(\s|$)(.*)$/.exec(line);
        let body: React.ReactNode;
        if (/^\s*#/.test(line)) body = <span className="c">{line}</span>;
        else if (m) {
          const rest = m[5] ?? '';
          const hash = rest.indexOf(' #');
          const value = hash >= 0 ? rest.slice(0, hash) : rest;
          const comment = hash >= 0 ? rest.slice(hash) : '';
          body = (
            <>
              {m[1]}
              <span className="k">{m[2]}</span>
              {m[3]}
              {m[4]}
              <span className={/^\s*['"]/.test(value) ? 's' : undefined}>{value}</span>
              {comment ? <span className="c">{comment}</span> : null}
            </>
          );
        } else body = line;
        const n = i + 1;
        return (
          <Fragment key={i}>
            <span className={highlight === n ? 'hl' : undefined} id={`L${n}`}>
              <span className="ln" aria-hidden>
                {n}
              </span>
              {body}
            </span>
            {'\n'}
          </Fragment>
        );
      })}
    </pre>
  );
}
