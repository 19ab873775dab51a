import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../lib/api.js';

/** Exchanges a token for the HttpOnly session cookie; the token itself is never stored by the page. */
export function LoginPage() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [token, setToken] = useState('');
  const login = useMutation({
    mutationFn: (value: string) => api('POST', '/session', { token: value }),
    onSuccess: () => {
      setToken('');
      void qc.invalidateQueries({ queryKey: ['whoami'] });
    },
  });
  const err = login.error instanceof ApiError ? login.error : null;
  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder p="xl" w={420} maw="100%" radius="md">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (token.trim()) login.mutate(token.trim());
          }}
        >
          <Stack>
            <Title order={1} size="h2">
              {t('login.title')}
            </Title>
            <Text size="sm" c="dimmed">
              {t('login.help')}
            </Text>
            <PasswordInput
              label={t('login.token')}
              value={token}
              onChange={(e) => setToken(e.currentTarget.value)}
              autoComplete="off"
              data-autofocus
              autoFocus
              name="token"
              error={err ? (err.status === 401 ? t('login.unknown_token') : err.message) : undefined}
            />
            <Button type="submit" loading={login.isPending}>
              {t('login.submit')}
            </Button>
            {login.isError && !err ? <Alert color="red">{String(login.error)}</Alert> : null}
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
