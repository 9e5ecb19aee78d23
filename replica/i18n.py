"""The replica's one translation table (`lang-fr`): English text as shown -> French.

Templates call `t(text, *args)` (a Jinja helper made from `translator`), the page
JS gets the same table as `window.__t` and calls `OKX.t(text, ...args)`, and the
page API translates the refusals it sends (`translate_message`). `{0}`, `{1}` in a
key stand for values filled in at run time (an IP, a count, a masked phone).
Strings that read the same in both languages (OKX, API, Services, tickers) are
not listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

FR: dict[str, str] = {
    # header, profile menu
    "Buy crypto": "Acheter des cryptos",
    "Deposit": "Dépôt",
    "Markets": "Marchés",
    "Trade": "Trading",
    "Grow": "Croissance",
    "Institutional": "Institutionnel",
    "Learn": "Apprendre",
    "More": "Plus",
    "Search crypto": "Rechercher une crypto",
    "Assets": "Actifs",
    "Switch sub-account": "Changer de sous-compte",
    "Overview": "Aperçu",
    "Profile": "Profil",
    "Security": "Sécurité",
    "Verification": "Vérification",
    "Country/Region": "Pays/Région",
    "Preferences": "Préférences",
    "Sub-accounts": "Sous-comptes",
    "API and connections": "API et connexions",
    "Third-party authorization": "Autorisation de tiers",
    "Log out": "Se déconnecter",
    "Log in": "Se connecter",
    "Sign up": "S'inscrire",
    # footer
    "English/EUR": "Français/EUR",
    "More about OKX": "En savoir plus sur OKX",
    "About us": "À propos",
    "Careers": "Carrières",
    "Contact us": "Nous contacter",
    "Terms of service": "Conditions d'utilisation",
    "Products": "Produits",
    "P2P trading": "Trading P2P",
    "Convert": "Convertir",
    "Affiliate": "Affiliation",
    "Referral": "Parrainage",
    "Historical market data": "Données de marché historiques",
    "Buy USDT": "Acheter de l'USDT",
    "Buy Bitcoin": "Acheter du Bitcoin",
    "Buy Ethereum": "Acheter de l'Ethereum",
    # interruptions
    "We use cookies to improve your experience and for marketing. See our Cookie Policy.": (
        "Nous utilisons des cookies pour améliorer votre expérience et à des fins marketing. "
        "Consultez notre politique en matière de cookies."
    ),
    "Reject All": "Tout refuser",
    "Accept All": "Tout accepter",
    "Announcement": "Annonce",
    "Scheduled maintenance for spot trading on Sunday 02:00-03:00 UTC. API services are not affected.": (
        "Maintenance programmée du trading spot dimanche de 02:00 à 03:00 UTC. "
        "Les services API ne sont pas concernés."
    ),
    "Got it": "Compris",
    # API keys list
    "API keys": "Clés API",
    "Automate trades or connect to third-party tools using API keys. For your security, keep your keys private and never share them with anyone.": (
        "Automatisez vos trades ou connectez des outils tiers grâce aux clés API. Pour votre "
        "sécurité, gardez vos clés privées et ne les partagez jamais avec personne."
    ),
    "Read API guide": "Lire le guide de l'API",
    "Account:": "Compte :",
    "Main account": "Compte principal",
    "Loading...": "Chargement...",
    "Create API key": "Créer une clé API",
    "New API key": "Nouvelle clé API",
    "No API keys yet": "Aucune clé API",
    "Create your first API key to automate trades, retrieve market data, and connect with third-party trading tools. Each main and sub-account can have up to 50 active keys.": (
        "Créez votre première clé API pour automatiser vos trades, récupérer des données de "
        "marché et vous connecter à des outils de trading tiers. Chaque compte principal et "
        "sous-compte peut détenir jusqu'à 50 clés actives."
    ),
    "You've reached the limit of {0} API keys for this account.": (
        "Vous avez atteint la limite de {0} clés API pour ce compte."
    ),
    "Edit": "Modifier",
    "Delete": "Supprimer",
    "Editing is not available in the replica": "La modification n'est pas disponible dans la réplique",
    "API key": "Clé API",
    "Permissions": "Autorisations",
    "IP address allowlist": "Liste d'adresses IP autorisées",
    "Used for": "Utilisée pour",
    "Created": "Créée le",
    "None": "Aucune",
    "Read": "Lecture",
    "Withdraw": "Retrait",
    "API trading": "Trading par API",
    "Linking third-party app": "Connexion d'une application tierce",
    "Delete API key?": "Supprimer la clé API ?",
    "\u201c{0}\u201d will stop working immediately. This can't be undone.": (
        "« {0} » cessera de fonctionner immédiatement. Cette action est irréversible."
    ),
    "Cancel": "Annuler",
    "Confirm": "Confirmer",
    "API key deleted": "Clé API supprimée",
    # create form
    "Create API keys": "Créer des clés API",
    "Reminder": "Rappel",
    "Main accounts and sub-accounts can each hold up to 50 active API keys.": (
        "Les comptes principaux et les sous-comptes peuvent chacun détenir jusqu'à 50 clés API "
        "actives."
    ),
    "Linking trusted IP addresses helps secure your API key. Never share your API keys with any third party.": (
        "Associer des adresses IP de confiance aide à sécuriser votre clé API. Ne partagez "
        "jamais vos clés API avec un tiers."
    ),
    "API keys with trade or withdraw permissions can be exposed when used on third-party platforms. Proceed with caution.": (
        "Les clés API avec des autorisations de trading ou de retrait peuvent être exposées sur "
        "des plateformes tierces. Soyez prudent."
    ),
    "API keys with trade or withdraw permissions will expire after 14 days of inactivity if they're not linked to IP addresses. Keys that are linked don't expire.": (
        "Les clés API avec des autorisations de trading ou de retrait expirent après 14 jours "
        "d'inactivité si elles ne sont pas associées à des adresses IP. Les clés associées "
        "n'expirent pas."
    ),
    "API keys drafts": "Brouillons de clés API",
    "Untitled": "Sans titre",
    "Add another": "Ajouter une autre",
    "Submit all": "Tout soumettre",
    "API key name": "Nom de la clé API",
    "Key name": "Nom de la clé",
    "Account": "Compte",
    "IP address allowlist (optional)": "Liste d'adresses IP autorisées (facultatif)",
    "Only requests from these IP addresses can use this API key. Keys with trade or withdraw permissions that aren't linked to an IP address expire after 14 days of inactivity.": (
        "Seules les requêtes venant de ces adresses IP peuvent utiliser cette clé API. Les clés "
        "avec des autorisations de trading ou de retrait non associées à une adresse IP "
        "expirent après 14 jours d'inactivité."
    ),
    "Enter IP address": "Saisissez une adresse IP",
    "Enter up to 20 IPv4 or IPv6 addresses. Use comma or space to separate each address.": (
        "Saisissez jusqu'à 20 adresses IPv4 ou IPv6, séparées par une virgule ou un espace."
    ),
    "Passphrase": "Phrase secrète",
    "You'll need the passphrase to use this API key. OKX can't show or recover it later, so store it safely.": (
        "Vous aurez besoin de la phrase secrète pour utiliser cette clé API. OKX ne peut ni "
        "l'afficher ni la récupérer plus tard : conservez-la en lieu sûr."
    ),
    "Your passphrase must contain:": "Votre phrase secrète doit contenir :",
    "8-32 characters": "8 à 32 caractères",
    "At least 1 lowercase character (a-z)": "Au moins 1 minuscule (a-z)",
    "At least 1 uppercase character (A-Z)": "Au moins 1 majuscule (A-Z)",
    "At least 1 number": "Au moins 1 chiffre",
    "At least 1 special character e.g. ! @ # $ %": "Au moins 1 caractère spécial, p. ex. ! @ # $ %",
    "Show passphrase": "Afficher la phrase secrète",
    "Hide passphrase": "Masquer la phrase secrète",
    # field errors and toasts (the page's and the server's)
    "Invalid IP address: {0}": "Adresse IP non valide : {0}",
    "This IP address has already been added": "Cette adresse IP a déjà été ajoutée",
    "You can add up to {0} IP addresses": "Vous pouvez ajouter jusqu'à {0} adresses IP",
    "Enter an API key name": "Saisissez un nom de clé API",
    "Your passphrase doesn't meet the requirements": "Votre phrase secrète ne remplit pas les conditions",
    "Enter an IP address": "Saisissez une adresse IP",
    "Duplicate IP address: {0}": "Adresse IP en double : {0}",
    "API key name can only contain letters, numbers, spaces, '-', '_' and '.' (max 50)": (
        "Le nom de la clé API ne peut contenir que des lettres, des chiffres, des espaces, "
        "'-', '_' et '.' (50 max.)"
    ),
    "Select a valid account": "Sélectionnez un compte valide",
    "Select what this API key is used for": "Indiquez à quoi sert cette clé API",
    "Unknown permission: {0}": "Autorisation inconnue : {0}",
    "Enter a passphrase": "Saisissez une phrase secrète",
    "Incorrect email or password": "E-mail ou mot de passe incorrect",
    "Enter the 6-digit code from your authenticator app": (
        "Saisissez le code à 6 chiffres de votre application d'authentification"
    ),
    "Incorrect verification code": "Code de vérification incorrect",
    "System error. Please try again later.": "Erreur système. Veuillez réessayer plus tard.",
    "Network error. Please try again later.": "Erreur réseau. Veuillez réessayer plus tard.",
    "Add at least one API key": "Ajoutez au moins une clé API",
    "The main account already has {0} API keys. Delete one to create another.": (
        "Le compte principal détient déjà {0} clés API. Supprimez-en une pour en créer une autre."
    ),
    "The sub-account {0} already has {1} API keys. Delete one to create another.": (
        "Le sous-compte {0} détient déjà {1} clés API. Supprimez-en une pour en créer une autre."
    ),
    'An API key named "{0}" already exists': "Une clé API nommée « {0} » existe déjà",
    "Nothing to resend": "Rien à renvoyer",
    "This verification has expired. Submit again.": "Cette vérification a expiré. Soumettez à nouveau.",
    "Complete the verification steps in order": "Effectuez les étapes de vérification dans l'ordre",
    "This code has expired. Request a new one.": "Ce code a expiré. Demandez-en un nouveau.",
    "Incorrect verification code. Try again.": "Code de vérification incorrect. Réessayez.",
    "API key limit reached": "Limite de clés API atteinte",
    "API key not found": "Clé API introuvable",
    "Your session has expired. Log in again.": "Votre session a expiré. Reconnectez-vous.",
    # security verification
    "Verify with authenticator app": "Vérifier avec l'application d'authentification",
    "Enter the 6-digit code from your authenticator app.": (
        "Saisissez le code à 6 chiffres de votre application d'authentification."
    ),
    "Verify with phone number": "Vérifier avec le numéro de téléphone",
    "Check the text we've sent to {0}": "Consultez le SMS que nous avons envoyé au {0}",
    "Verify with email": "Vérifier avec l'e-mail",
    "We've sent a 6-digit code to {0}. It's valid for 10 minutes and may be in your spam folder.": (
        "Nous avons envoyé un code à 6 chiffres à {0}. Il est valable 10 minutes et peut se "
        "trouver dans vos courriers indésirables."
    ),
    "Continue": "Continuer",
    "Resend ({0}s)": "Renvoyer ({0} s)",
    "Resend": "Renvoyer",
    "Code sent": "Code envoyé",
    # API key created
    "API key created": "Clé API créée",
    "Secret key": "Clé secrète",
    "Copy API key info": "Copier les infos de la clé API",
    "Complete": "Terminer",
    "Copied": "Copié",
    "Copy failed": "Échec de la copie",
    "Copy": "Copier",
    # login, other pages
    "Email / Phone": "E-mail / Téléphone",
    "QR code": "Code QR",
    "Email": "E-mail",
    "Password": "Mot de passe",
    "Don't have an account?": "Vous n'avez pas de compte ?",
    "Authenticator app code": "Code de l'application d'authentification",
    "Enter your email": "Saisissez votre e-mail",
    "Enter your password": "Saisissez votre mot de passe",
    "QR code login is not available in the replica": (
        "La connexion par code QR n'est pas disponible dans la réplique"
    ),
    "Manage your OKX account.": "Gérez votre compte OKX.",
    "This section is not part of the replica.": "Cette section ne fait pas partie de la réplique.",
    "Manage API keys": "Gérer les clés API",
    "Trade crypto with confidence": "Tradez des cryptos en toute confiance",
    "Buy, sell and trade Bitcoin, Ethereum and hundreds of other assets on OKX.": (
        "Achetez, vendez et tradez du Bitcoin, de l'Ethereum et des centaines d'autres actifs "
        "sur OKX."
    ),
    "Go to account": "Accéder au compte",
}


def fill(text: str, args: tuple[object, ...]) -> str:
    for i, a in enumerate(args):
        text = text.replace("{" + str(i) + "}", str(a))
    return text


def translator(french: bool) -> Callable[..., str]:
    """`t(text, *args)`: the French of `text` (or `text` itself), `{n}` filled from args."""

    def t(text: str, *args: object) -> str:
        return fill(FR.get(text, text) if french else text, args)

    return t


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for en, fr in FR.items():
        if "{0}" in en:
            rx = re.escape(en)
            for i in range(3):
                rx = rx.replace(re.escape("{" + str(i) + "}"), f"(?P<a{i}>.+?)")
            out.append((re.compile(f"^{rx}$"), fr))
    return out


def translate_message(msg: str) -> str:
    """A finished English message (values filled in) in French, if the table knows it."""
    if msg in FR:
        return FR[msg]
    for rx, fr in _patterns():
        m = rx.match(msg)
        if m:
            groups = {k: v for k, v in m.groupdict().items() if v is not None}
            return fill(fr, tuple(groups[f"a{i}"] for i in range(len(groups))))
    return msg
