import { ActionIcon, AppShell, Badge, Burger, Group, NavLink, Select, Text, TextInput, Title, Tooltip, VisuallyHidden, useMantineColorScheme } from '@mantine/core';
import { useDisclosure, useHotkeys } from '@mantine/hooks';
import { IconBrightness, IconGitBranch, IconHistory, IconKey, IconLogout, IconPlugConnected, IconServer, IconStack2, IconWebhook } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useNavigate, useRouterState } from '@tanstack/react-router';
import { useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../lib/api.js';
import { useLiveEvents } from '../lib/live.js';
import { isGlobalAdmin, useWhoami } from '../lib/session.js';
import { LoginPage } from '../pages/Login.js';
import { LiveContext } from './LiveContext.js';
import { Loading, ErrorView } from './States.js';

function ConnectionDot({ state }: { state: 'connecting' | 'live' | 'polling' }) {
  const { t } = useTranslation();
  const color = state === 'live' ? 'teal' : state === 'polling' ? 'yellow' : 'gray';
  return (
    <Tooltip label={t(`live.help.${state}`)} withArrow>
      <Badge variant="dot" color={color} data-testid="connection" data-state={state} tabIndex={0} aria-live="polite">
        {t(`live.${state}`)}
      </Badge>
    </Tooltip>
  );
}

export function Shell() {
  const { t, i18n } = useTranslation();
  const who = useWhoami();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [opened, { toggle, close }] = useDisclosure(false);
  const { toggleColorScheme } = useMantineColorScheme();
  const live = useLiveEvents(!!who.data);
  const search = useRef<HTMLInputElement>(null);
  const pathname = useRouterState({ select: (s) => s.location.pathname });
  useHotkeys([['/', () => search.current?.focus()]]);

  const logout = useMutation({
    mutationFn: () => api('DELETE', '/session'),
    onSettled: () => {
      qc.clear();
      void qc.invalidateQueries({ queryKey: ['whoami'] });
    },
  });

  if (who.isPending) return <Loading />;
  if (who.isError) return <ErrorView error={who.error} onRetry={() => void who.refetch()} />;
  if (!who.data) return <LoginPage />;
  const me = who.data;
  const admin = isGlobalAdmin(me);

  const nav = [
    { to: '/namespaces', label: t('nav.namespaces'), icon: IconStack2, show: true },
    { to: '/sources', label: t('nav.sources'), icon: IconGitBranch, show: true },
    { to: '/mirrors', label: t('nav.mirrors'), icon: IconServer, show: true },
    { to: '/webhooks', label: t('nav.webhooks'), icon: IconWebhook, show: admin },
    { to: '/audit', label: t('nav.audit'), icon: IconHistory, show: admin },
    { to: '/tokens', label: t('nav.tokens'), icon: IconKey, show: admin },
  ] as const;

  return (
    <LiveContext.Provider value={live}>
      <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between" wrap="nowrap">
            <Group gap="sm" wrap="nowrap">
              <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t('nav.menu')} />
              <IconPlugConnected aria-hidden />
              <Title order={1} size="h4">
                Syncline
              </Title>
            </Group>
            <form
              role="search"
              onSubmit={(e) => {
                e.preventDefault();
                const q = search.current?.value.trim();
                void navigate({ to: '/namespaces', search: { q: q || undefined } });
              }}
              style={{ flex: 1, maxWidth: 360 }}
            >
              <TextInput ref={search} placeholder={t('nav.search_placeholder')} aria-label={t('nav.search')} size="xs" visibleFrom="sm" />
            </form>
            <Group gap="xs" wrap="nowrap">
              <ConnectionDot state={live} />
              <Select
                size="xs"
                w={80}
                aria-label={t('nav.language')}
                data={[
                  { value: 'en', label: 'EN' },
                  { value: 'de', label: 'DE' },
                ]}
                value={i18n.language.slice(0, 2)}
                onChange={(v) => {
                  if (!v) return;
                  localStorage.setItem('syncline.lang', v);
                  void i18n.changeLanguage(v);
                }}
                allowDeselect={false}
                visibleFrom="sm"
              />
              <ActionIcon variant="subtle" onClick={toggleColorScheme} aria-label={t('nav.theme')}>
                <IconBrightness size={18} aria-hidden />
              </ActionIcon>
              <Text size="sm" visibleFrom="sm" data-testid="whoami">
                {me.name} · {t(`role.${me.role}`)}
              </Text>
              <ActionIcon variant="subtle" onClick={() => logout.mutate()} aria-label={t('nav.logout')} data-testid="logout">
                <IconLogout size={18} aria-hidden />
              </ActionIcon>
            </Group>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="xs" aria-label={t('nav.main')}>
          <VisuallyHidden>
            <Text>{t('nav.main')}</Text>
          </VisuallyHidden>
          {nav
            .filter((n) => n.show)
            .map((n) => (
              <NavLink
                key={n.to}
                component={Link}
                to={n.to}
                label={n.label}
                leftSection={<n.icon size={18} aria-hidden />}
                active={pathname.startsWith(n.to)}
                onClick={close}
              />
            ))}
        </AppShell.Navbar>
        <AppShell.Main>
          <Outlet />
        </AppShell.Main>
      </AppShell>
    </LiveContext.Provider>
  );
}
