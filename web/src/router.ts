import { useEffect, useState, type MouseEvent } from 'react';

/** Client routes on the History API: the registry answers every console path with index.html. */
export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const [here, setHere] = useState(() => location.pathname + location.search);
  useEffect(() => {
    const update = () => setHere(location.pathname + location.search);
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  const url = new URL(here, location.origin);
  return { path: url.pathname, query: url.searchParams };
}

/** For an <a href>'s onClick: follow in the page, unless the person asked for a new tab or window. */
export function follow(event: MouseEvent<HTMLAnchorElement>): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(event.currentTarget.getAttribute('href') ?? '/');
}
