import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App } from './App';
import { ApiError } from './api/errors';
import './styles.css';

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // Network failures and 5xx retry with exponential backoff; a 4xx is an answer, not a glitch.
      retry: (count, err) => count < 4 && (!(err instanceof ApiError) || err.status === 0 || err.status >= 500),
      retryDelay: (n) => Math.min(1000 * 2 ** n, 15_000),
      staleTime: 5_000,
      refetchOnWindowFocus: true,
    },
    mutations: { retry: false },
  },
});

createRoot(document.getElementById('root')!).render(
  <QueryClientProvider client={queries}>
    <App />
  </QueryClientProvider>,
);
